package merge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// TestRandomAgainstModelAndDuckDB generates random change sequences —
// inserts, updates, deletes, key changes (delete + upsert at one
// position), replayed duplicates, ties, out-of-order positions, late files
// for the day before, files of the next day, TRUNCATEs — over several
// days, merges them with binlake, and compares every day with
//
//   - a small in-memory reference model of DESIGN.md §3.6, and
//   - the same inputs merged by DuckDB SQL: row_number() over the day's
//     changes by key ordered by _pos desc (ties by file and row order), the
//     winner kept where it beats the base row and the tombstones, the
//     untouched base rows UNION ALL the winning upserts.
//
// Each seed merges a few hundred keys a day, each key a random sequence.
func TestRandomAgainstModelAndDuckDB(t *testing.T) {
	seeds, days := 6, 7
	if testing.Short() {
		seeds, days = 2, 4
	}
	if s := os.Getenv("BINLAKE_RANDOM_SEEDS"); s != "" {
		seeds, _ = strconv.Atoi(s)
	}
	base := uint64(time.Now().UnixNano())
	for i := range seeds {
		seed := base + uint64(i)
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { randomRun(t, seed, days) })
	}
}

// A change as the generator makes it.
type rchange struct {
	op     string
	db, tb string
	id     int
	name   *string
	cents  int64
	pos    int64 // offset; positions are @0:pos:0
}

type rkey struct {
	db, tb string
	id     int
}

type rrow struct {
	name  *string
	cents int64
	pos   int64
}

// rfile is a committed binlog file.
type rfile struct {
	part    int32
	seq     int64
	hour    warehouse.Hour
	key     string
	changes []rchange
	applied bool
}

// model is the reference: DESIGN.md §3.6 in the plainest terms.
type model struct {
	rows   map[rkey]rrow
	tombs  map[rkey][]rtomb
	truncs []rtrunc
	tdays  int
}

type rtomb struct {
	pos int64
	day warehouse.Date
}

type rtrunc struct {
	db, tb string
	pos    int64
	day    warehouse.Date
}

func daysBetween(a, b warehouse.Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta).Hours() / 24)
}

// merge applies the changes of the day's files, in file order.
func (m *model) merge(d warehouse.Date, changes []rchange) {
	kept := m.truncs[:0:0]
	for _, t := range m.truncs {
		if daysBetween(t.day, d) < m.tdays {
			kept = append(kept, t)
		}
	}
	var fresh []rtrunc
	for _, c := range changes {
		if c.op == "truncate" {
			fresh = append(fresh, rtrunc{c.db, c.tb, c.pos, d})
		}
	}
	allTr := append(append([]rtrunc{}, kept...), fresh...)
	for k, tl := range m.tombs {
		var keep []rtomb
		for _, t := range tl {
			if daysBetween(t.day, d) < m.tdays {
				keep = append(keep, t)
			}
		}
		if keep == nil {
			delete(m.tombs, k)
		} else {
			m.tombs[k] = keep
		}
	}
	truncBlocks := func(trs []rtrunc, db, tb string, pos int64) bool {
		for _, t := range trs {
			if t.db == db && t.tb == tb && pos < t.pos {
				return true
			}
		}
		return false
	}
	byKey := map[rkey][]rchange{}
	var order []rkey
	for _, c := range changes {
		if c.op == "truncate" {
			continue
		}
		k := rkey{c.db, c.tb, c.id}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], c)
	}
	// Block positions come from the base, before today's TRUNCATEs.
	block := map[rkey]int64{}
	for k, r := range m.rows {
		block[k] = r.pos
	}
	for k, tl := range m.tombs {
		for _, t := range tl {
			if b, ok := block[k]; !ok || t.pos > b {
				block[k] = t.pos
			}
		}
	}
	for k, r := range m.rows {
		if truncBlocks(fresh, k.db, k.tb, r.pos) {
			delete(m.rows, k)
		}
	}
	for _, k := range order {
		cs := byKey[k]
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].pos < cs[j].pos })
		var win *rchange
		for i := range cs {
			c := &cs[i]
			if truncBlocks(allTr, c.db, c.tb, c.pos) {
				continue
			}
			if b, ok := block[k]; ok && c.pos <= b {
				continue
			}
			win = c
		}
		if win == nil {
			continue
		}
		if win.op == "delete" {
			delete(m.rows, k)
			m.tombs[k] = append(m.tombs[k], rtomb{win.pos, d})
		} else {
			m.rows[k] = rrow{win.name, win.cents, win.pos}
		}
	}
	m.truncs = allTr
}

func (m *model) lines() []string {
	var out []string
	for k, r := range m.rows {
		out = append(out, rowLine(k.db, k.tb, k.id, r.name, r.cents, r.pos))
	}
	sort.Strings(out)
	return out
}

func cents(c int64) string {
	s := ""
	if c < 0 {
		s, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", s, c/100, c%100)
}

func rowLine(db, tb string, id int, name *string, c int64, pos int64) string {
	n := "NULL"
	if name != nil {
		n = *name
	}
	return fmt.Sprintf("%s|%s|%d|%s|%s|%d", db, tb, id, n, cents(c), pos*1_000_000_000)
}

var randomNames = []string{"a", "b", "", "Zed", "ünï", "long name here", "x y"}

func randomRun(t *testing.T, seed uint64, days int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := fakeingest.New(st, "orders", "binlog")
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)", "amount", "decimal(10,2)"); err != nil {
		t.Fatal(err)
	}
	tdays := 1 + rng.IntN(3)
	m := &model{rows: map[rkey]rrow{}, tombs: map[rkey][]rtomb{}, tdays: tdays}
	var files []*rfile
	var history []rchange
	next := int64(1000)
	dbs, tbs := []string{"s1", "s2"}, []string{"t1", "t2"}
	nkeys := 20 + rng.IntN(120)
	randKey := func() (string, string, int) {
		return dbs[rng.IntN(2)], tbs[rng.IntN(2)], rng.IntN(nkeys)
	}
	randName := func() *string {
		if rng.IntN(10) == 0 {
			return nil
		}
		s := randomNames[rng.IntN(len(randomNames))]
		return &s
	}
	day0 := mustDate(t, "2024-03-01")
	seqs := map[int32]int64{}
	for di := 0; di < days; di++ {
		d := day0.AddDays(di)
		// Commits of the day: 2 partitions, 1-3 commits each.
		for p := int32(0); p < 2; p++ {
			for range 1 + rng.IntN(3) {
				var fs []fakeingest.File
				var rfs []*rfile
				for range 1 + rng.IntN(2) {
					h := warehouse.Hour{Date: d, Hour: rng.IntN(24)}
					switch r := rng.IntN(10); {
					case r == 0 && di > 0:
						h.Date = d.AddDays(-1) // late for the day before
					case r == 1:
						h.Date = d.AddDays(1) // the next day's first hours
						h.Hour = rng.IntN(2)
					}
					var cs []rchange
					for range rng.IntN(60) {
						next += int64(1 + rng.IntN(3))
						pos := next
						if rng.IntN(8) == 0 {
							pos = next - int64(rng.IntN(200)) // out of order
						}
						db, tb, id := randKey()
						switch r := rng.IntN(100); {
						case r < 45:
							cs = append(cs, rchange{op: "insert", db: db, tb: tb, id: id, name: randName(), cents: rng.Int64N(20000) - 10000, pos: pos})
						case r < 70:
							cs = append(cs, rchange{op: "update", db: db, tb: tb, id: id, name: randName(), cents: rng.Int64N(20000) - 10000, pos: pos})
						case r < 85:
							cs = append(cs, rchange{op: "delete", db: db, tb: tb, id: id, name: randName(), pos: pos})
						case r < 93:
							// A key change: delete the old key, upsert the new, one position.
							_, _, id2 := randKey()
							name := randName()
							cs = append(cs, rchange{op: "delete", db: db, tb: tb, id: id, name: name, pos: pos},
								rchange{op: "update", db: db, tb: tb, id: id2, name: name, cents: 7, pos: pos})
						case r < 99 && len(history) > 0:
							cs = append(cs, history[rng.IntN(len(history))]) // a replay
						default:
							if rng.IntN(4) == 0 {
								cs = append(cs, rchange{op: "truncate", db: db, tb: tb, pos: pos})
							}
						}
					}
					if len(cs) == 0 {
						continue
					}
					history = append(history, cs...)
					f := fakeingest.File{Hour: h, Version: 1}
					for _, c := range cs {
						r := fakeingest.Row{Op: c.op, Pos: warehouse.Pos{Offset: c.pos}, Event: time.Date(h.Date.Year, h.Date.Month, h.Date.Day, h.Hour, 0, 0, 0, time.UTC),
							DB: c.db, Table: c.tb, Values: []schema.Value{schema.IntValue(int64(c.id)), schema.NullValue(), schema.DecimalValue(cents(c.cents))}}
						if c.name != nil {
							r.Values[1] = schema.StringValue(*c.name)
						}
						if c.op == "truncate" {
							r.Values = nil
						}
						f.Rows = append(f.Rows, r)
					}
					fs = append(fs, f)
					rfs = append(rfs, &rfile{part: p, hour: h, changes: cs})
				}
				if len(fs) == 0 {
					continue
				}
				w.Now = func() time.Time { return time.Date(d.Year, d.Month, d.Day, 23, 0, 0, 0, time.UTC) }
				seq, err := w.Commit(ctx, p, fs...)
				if err != nil {
					t.Fatal(err)
				}
				seqs[p] = seq
				for i, rf := range rfs {
					rf.seq = seq
					rf.key = warehouse.BinlogDir("orders", rf.hour) + fmt.Sprintf("binlog-%d-%020d-%020d.parquet", p, fs[i].Rows[0].Offset, fs[i].Rows[len(fs[i].Rows)-1].Offset)
					files = append(files, rf)
				}
			}
		}
		// The files merge(d) applies: every file not applied yet of an
		// hour up to d, in binlake's order (partition, commit, file).
		var apply []*rfile
		for _, f := range files {
			if !f.applied && f.hour.Date.Compare(d) <= 0 {
				apply = append(apply, f)
			}
		}
		sort.SliceStable(apply, func(i, j int) bool {
			if apply[i].part != apply[j].part {
				return apply[i].part < apply[j].part
			}
			return apply[i].seq < apply[j].seq
		})
		var changes []rchange
		for _, f := range apply {
			changes = append(changes, f.changes...)
			f.applied = true
		}
		// The DuckDB SQL merge reads the base that binlake published.
		var prev *warehouse.Manifest
		if di > 0 {
			prev = readManifest(t, st, "orders", d.AddDays(-1))
		}
		sqlWant := duckdbMerge(t, dir, d, prev, apply, m, tdays)

		o := merge.DefaultOptions()
		o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d
		o.TombstoneDays = tdays
		o.RowGroupRows = 1 + rng.IntN(40)
		o.FileSize = int64(1 + rng.IntN(20_000))
		o.MemoryBudget = int64(rng.IntN(3)) << 20 // small budgets spill
		s, err := merge.Run(ctx, o)
		if err != nil {
			t.Fatalf("day %s: %v", d, err)
		}
		m.merge(d, changes)
		want := m.lines()
		got := binlakeLines(t, dir, readManifest(t, st, "orders", d))
		if diff := lineDiff(want, got); diff != "" {
			t.Fatalf("day %s (%d changes in %d files): binlake differs from the model:\n%s", d, len(changes), len(apply), diff)
		}
		if diff := lineDiff(sqlWant, got); diff != "" {
			t.Fatalf("day %s: binlake differs from the DuckDB SQL merge:\n%s", d, diff)
		}
		if s.RowsOut != int64(len(want)) {
			t.Errorf("day %s: summary says %d rows, want %d", d, s.RowsOut, len(want))
		}
		t.Logf("day %s: %d changes, %d rows, %d spill runs: same as the model and DuckDB", d, len(changes), len(want), s.SpillRuns)
	}
}

// binlakeLines reads a published day with DuckDB, in file order, and
// checks that keys ascend.
func binlakeLines(t *testing.T, dir string, m *warehouse.Manifest) []string {
	if len(m.Files) == 0 {
		return nil
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, duckdbtest.QuoteString(filepath.Join(dir, f.Key)))
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT concat_ws('|', _source_db, _source_table, id, coalesce(name, 'NULL'), amount, _pos) AS l,
		(_source_db, _source_table, id) > lag((_source_db, _source_table, id)) OVER (ORDER BY fi, file_row_number) AS up
		FROM read_parquet([%s], filename=true, file_row_number=true)
		JOIN (SELECT unnest([%s]) AS filename, generate_subscripts([%s], 1) AS fi) USING (filename)
		ORDER BY fi, file_row_number`, strings.Join(paths, ","), strings.Join(paths, ","), strings.Join(paths, ",")))
	var out []string
	for i, r := range res.Rows {
		out = append(out, *r[0])
		if i > 0 && (r[1] == nil || *r[1] != "true") {
			t.Errorf("row %d (%s) is not after the row before it in key order", i, *r[0])
		}
	}
	sort.Strings(out)
	return out
}

// duckdbMerge merges the day in DuckDB SQL from the same inputs.
func duckdbMerge(t *testing.T, dir string, d warehouse.Date, prev *warehouse.Manifest, apply []*rfile, m *model, tdays int) []string {
	list := func(keys []string) string {
		var q []string
		for _, k := range keys {
			q = append(q, duckdbtest.QuoteString(filepath.Join(dir, k)))
		}
		return "[" + strings.Join(q, ",") + "]"
	}
	empty := "SELECT NULL::VARCHAR AS _source_db, NULL::VARCHAR AS _source_table, NULL::INTEGER AS id, NULL::VARCHAR AS name, NULL::DECIMAL(10,2) AS amount, NULL::DECIMAL(38,0) AS _pos WHERE false"
	base := empty
	tomb := "SELECT NULL::VARCHAR AS _source_db, NULL::VARCHAR AS _source_table, NULL::INTEGER AS id, NULL::DECIMAL(38,0) AS _pos WHERE false"
	var truncs []string
	if prev != nil {
		var bk, tk []string
		for _, f := range prev.Files {
			bk = append(bk, f.Key)
		}
		for _, f := range prev.Tombstones {
			n, _ := warehouse.ParseSnapshotName(filepath.Base(f.Key))
			if daysBetween(n.Deleted, d) >= tdays {
				continue
			}
			if n.Prefix == warehouse.TombstonePrefix {
				tk = append(tk, f.Key)
			}
		}
		if len(bk) > 0 {
			base = "SELECT _source_db, _source_table, id, name, amount, _pos FROM read_parquet(" + list(bk) + ")"
		}
		if len(tk) > 0 {
			tomb = "SELECT _source_db, _source_table, id, _pos FROM read_parquet(" + list(tk) + ")"
		}
	}
	// TRUNCATEs: those the model keeps from earlier days, and today's.
	fresh := []string{"(NULL, NULL, NULL)"}
	all := []string{"(NULL, NULL, NULL)"}
	for _, tr := range m.truncs {
		if daysBetween(tr.day, d) < tdays {
			all = append(all, fmt.Sprintf("('%s', '%s', %d)", tr.db, tr.tb, tr.pos*1_000_000_000))
		}
	}
	var ck []string
	var fidx []string
	for i, f := range apply {
		ck = append(ck, f.key)
		fidx = append(fidx, fmt.Sprintf("(%s, %d)", duckdbtest.QuoteString(filepath.Join(dir, f.key)), i))
		for _, c := range f.changes {
			if c.op == "truncate" {
				v := fmt.Sprintf("('%s', '%s', %d)", c.db, c.tb, c.pos*1_000_000_000)
				fresh = append(fresh, v)
				all = append(all, v)
			}
		}
	}
	_ = truncs
	changes := "SELECT NULL::VARCHAR AS _op, NULL::VARCHAR AS _source_db, NULL::VARCHAR AS _source_table, NULL::INTEGER AS id, NULL::VARCHAR AS name, NULL::DECIMAL(10,2) AS amount, NULL::DECIMAL(38,0) AS _pos, 0 AS fi, 0 AS rn WHERE false"
	if len(ck) > 0 {
		changes = fmt.Sprintf(`SELECT _op, _source_db, _source_table, id, name, amount, _pos, fi, file_row_number AS rn
			FROM read_parquet(%s, filename=true, file_row_number=true)
			JOIN (VALUES %s) AS f(filename, fi) USING (filename)`, list(ck), strings.Join(fidx, ","))
	}
	sql := fmt.Sprintf(`
WITH base AS (%s),
tomb AS (SELECT _source_db, _source_table, id, max(_pos) AS _pos FROM (%s) GROUP BY ALL),
alltr AS (SELECT * FROM (VALUES %s) AS t(db, tb, pos) WHERE db IS NOT NULL),
newtr AS (SELECT * FROM (VALUES %s) AS t(db, tb, pos) WHERE db IS NOT NULL),
ch AS (SELECT * FROM (%s) c WHERE _op <> 'truncate'
       AND NOT EXISTS (SELECT 1 FROM alltr WHERE db = c._source_db AND tb = c._source_table AND c._pos < pos)),
w AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY _source_db, _source_table, id ORDER BY _pos DESC, fi DESC, rn DESC) AS r FROM ch) WHERE r = 1),
win AS (SELECT w.* FROM w
        LEFT JOIN base b USING (_source_db, _source_table, id)
        LEFT JOIN tomb t USING (_source_db, _source_table, id)
        WHERE (b._pos IS NULL OR w._pos > b._pos) AND (t._pos IS NULL OR w._pos > t._pos)),
kept AS (SELECT b.* FROM base b ANTI JOIN win USING (_source_db, _source_table, id)
         WHERE NOT EXISTS (SELECT 1 FROM newtr WHERE db = b._source_db AND tb = b._source_table AND b._pos < pos))
SELECT concat_ws('|', _source_db, _source_table, id, coalesce(name, 'NULL'), amount, _pos) AS l FROM (
  SELECT _source_db, _source_table, id, name, amount, _pos FROM kept
  UNION ALL
  SELECT _source_db, _source_table, id, name, amount, _pos FROM win WHERE _op <> 'delete')
ORDER BY l`, base, tomb, strings.Join(all, ","), strings.Join(fresh, ","), changes)
	res := duckdbtest.Query(t, sql)
	var out []string
	for _, r := range res.Rows {
		out = append(out, *r[0])
	}
	sort.Strings(out)
	return out
}

// lineDiff describes how two sorted line lists differ ("" if they do
// not).
func lineDiff(want, got []string) string {
	var b strings.Builder
	i, j, n := 0, 0, 0
	for (i < len(want) || j < len(got)) && n < 20 {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			fmt.Fprintf(&b, "- %s\n", want[i])
			i++
			n++
		case i >= len(want) || got[j] < want[i]:
			fmt.Fprintf(&b, "+ %s\n", got[j])
			j++
			n++
		default:
			i++
			j++
		}
	}
	return b.String()
}
