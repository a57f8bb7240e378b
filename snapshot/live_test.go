package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/internal/mariadbtest"
)

// change is a committed write of the test's single writer, with the binary
// log position right after its commit.
type change struct {
	table string
	id    int64
	row   *string // the row image after the change; nil: deleted
	file  string
	end   int64
}

// liveRows renders a live table's rows: "table id v note", sorted.
func liveRows(t *testing.T, db *sql.DB, tables []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tb := range tables {
		rows, err := db.Query("SELECT id, v, note FROM live." + tb)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, v int64
			var note string
			if err := rows.Scan(&id, &v, &note); err != nil {
				t.Fatal(err)
			}
			out[tb+" "+strconv.FormatInt(id, 10)] = fmt.Sprintf("%d %s", v, note)
		}
		rows.Close()
	}
	return out
}

// Writes running during a snapshot do not break it: applying, over the
// snapshot, exactly the changes committed after its stamped position (as
// the next merge does) gives the source's final state. Were the position
// read after some row, a change between the two would be skipped and the
// key would differ.
func TestSnapshotUnderConcurrentWrites(t *testing.T) {
	duckdbtest.Require(t)
	srv := mariadbtest.Start(t)
	tables := []string{"t_0", "t_1", "t_2"}
	stmts := []string{"CREATE DATABASE live"}
	for _, tb := range tables {
		stmts = append(stmts, "CREATE TABLE live."+tb+" (id BIGINT NOT NULL PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(40) NOT NULL)")
		var rows []string
		for i := 1; i <= 400; i++ {
			rows = append(rows, fmt.Sprintf("(%d, %d, 'initial')", i, i))
		}
		stmts = append(stmts, "INSERT INTO live."+tb+" VALUES "+strings.Join(rows, ","))
	}
	srv.Exec(t, stmts...)
	dir := t.TempDir()
	cfg := testConfig(t, dir, srv, "")
	cfg.Tables[0].Match = mustRegexp(t, `^live\.t_\d+$`)
	o := testOptions(t, cfg)
	o.ChunkRows, o.Parallel, o.Rate = 20, 2, 1500

	// The writer: one connection, one change per transaction.
	ctx, cancel := context.WithCancel(context.Background())
	db := srv.DB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		changes []change
		werr    error
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer conn.Close()
		rng := rand.New(rand.NewPCG(1, 2))
		next := int64(1000)
		for n := 0; ctx.Err() == nil; n++ {
			tb := tables[rng.IntN(len(tables))]
			id := int64(rng.IntN(420) + 1)
			var q string
			switch rng.IntN(4) {
			case 0:
				next++
				id = next
				q = fmt.Sprintf("INSERT INTO live.%s VALUES (%d, %d, 'inserted %d')", tb, id, n, n)
			case 1:
				q = fmt.Sprintf("DELETE FROM live.%s WHERE id = %d", tb, id)
			default:
				q = fmt.Sprintf("UPDATE live.%s SET v = %d, note = 'update %d' WHERE id = %d", tb, n, n, id)
			}
			if _, err := conn.ExecContext(context.Background(), q); err != nil {
				werr = err
				return
			}
			c := change{table: tb, id: id}
			var v int64
			var note string
			switch err := conn.QueryRowContext(context.Background(), fmt.Sprintf("SELECT v, note FROM live.%s WHERE id = %d", tb, id)).Scan(&v, &note); err {
			case nil:
				s := fmt.Sprintf("%d %s", v, note)
				c.row = &s
			case sql.ErrNoRows:
			default:
				werr = err
				return
			}
			if err := conn.QueryRowContext(context.Background(), "SHOW BINLOG STATUS").Scan(&c.file, &c.end, new(sql.NullString), new(sql.NullString)); err != nil {
				werr = err
				return
			}
			mu.Lock()
			changes = append(changes, c)
			mu.Unlock()
		}
	}()
	s, err := Run(context.Background(), o)
	mu.Lock()
	during := len(changes)
	mu.Unlock()
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	stampFile, stampPos, ok := strings.Cut(s.Position, ":")
	if !ok {
		t.Fatalf("position %q", s.Position)
	}
	p, _ := strconv.ParseInt(stampPos, 10, 64)

	// The model: the snapshot, then every change committed after the
	// stamp, in commit order.
	glob := duckdbtest.QuoteString(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))
	res := duckdbtest.Query(t, "SELECT _source_table AS tb, id, v, note FROM read_parquet("+glob+")")
	model := map[string]string{}
	for i := range res.Len() {
		model[res.Text(i, "tb")+" "+res.Text(i, "id")] = res.Text(i, "v") + " " + res.Text(i, "note")
	}
	after := 0
	for i, c := range changes {
		if c.file != stampFile {
			t.Fatalf("the binary log rotated during the test (%s, stamp in %s)", c.file, stampFile)
		}
		if c.end <= p {
			continue
		}
		if i < during {
			after++
		}
		k := c.table + " " + strconv.FormatInt(c.id, 10)
		if c.row == nil {
			delete(model, k)
		} else {
			model[k] = *c.row
		}
	}
	if after == 0 || during-after == 0 {
		t.Fatalf("the writes did not overlap the snapshot: %d changes during it, %d after the stamp", during, after)
	}
	t.Logf("%d changes during the snapshot, %d of them after the stamp; %d in all", during, after, len(changes))
	final := liveRows(t, srv.DB(t), tables)
	var diffs []string
	for k, v := range final {
		if model[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: source %q, snapshot+changes %q", k, v, model[k]))
		}
	}
	for k, v := range model {
		if _, ok := final[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: not in the source, snapshot+changes %q", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d keys differ:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "\n"))
	}
}

func mustRegexp(t *testing.T, s string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
