package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// buildBinlake builds the binlake command for tests that run it as a
// process.
func buildBinlake(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "binlake")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/binlake/binlake/cmd/binlake").CombinedOutput()
	if err != nil {
		t.Fatalf("build binlake: %v\n%s", err, out)
	}
	return bin
}

// TestExactlyOnceUnderKill ingests a million records with a real binlake
// process that is killed with SIGKILL at random instants, reruns it to the
// end, and then counts every (partition, offset) in the committed files
// and the dead-letter queue: each must be there exactly once.
func TestExactlyOnceUnderKill(t *testing.T) {
	if raceEnabled {
		t.Skip("runs in the non-race pass of make test: the race detector makes producing a million records take minutes")
	}
	total := 1_000_000
	if testing.Short() {
		total = 50_000
	}
	if s := os.Getenv("BINLAKE_CRASH_RECORDS"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	const partitions = 4
	const badEvery = 50_000 // one undecodable record in so many
	ctx := context.Background()
	kc := startKafka(t, partitions)
	bin := buildBinlake(t)

	// Produce: single-row inserts spread over the partitions and a few
	// hours, and some garbage for the dead-letter queue.
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		t.Fatal(err)
	}
	// Recent event times, as in production: a run that has read every
	// partition to its end marks every hour up to now ready.
	base := time.Now().Add(-4 * time.Hour).Truncate(time.Hour)
	step := 3 * time.Hour / time.Duration(total)
	produced := make([]int64, partitions)
	bad := 0
	start := time.Now()
	for i := range total {
		p := int32(i % partitions)
		var v []byte
		if i%badEvery == badEvery-1 {
			v = []byte(`{"broken": ` + strconv.Itoa(i))
			bad++
		} else {
			es := base.Add(step * time.Duration(i))
			v = canalMessage(fmt.Sprintf("shop_%02d", i%7), fmt.Sprintf("orders_%02d", i%3), "INSERT", es,
				[]orderRow{{ID: i, Customer: uint64(i), Cents: int64(i), Status: 1 + i%3, Note: strp("n"), Created: es}}, nil)
		}
		cl.Produce(ctx, &kgo.Record{Partition: p, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
		produced[p]++
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	t.Logf("produced %d records (%d undecodable) in %v", total, bad, time.Since(start))

	dir := t.TempDir()
	cfg := filepath.Join(dir, "binlake.yaml")
	wh := filepath.Join(dir, "wh")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`warehouse: %s
kafka:
  brokers: [%s]
  topics: [%s]
  format: canal
ingest:
  max_dlq_ratio: 0.5
  memory_budget: 16MiB
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
    bootstrap: empty
`, wh, strings.Join(kc.ListenAddrs(), ", "), topic)), 0o644); err != nil {
		t.Fatal(err)
	}
	runIngest := func(kill time.Duration) (killed bool, summary string) {
		cmd := exec.Command(bin, "ingest", "--config", cfg, "--max-records", "150000", "--log-format", "json", "--log-level", "warn")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if kill > 0 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ingest failed: %v\n%s", err, stderr.String())
				}
				return false, lastLine(stderr.String())
			case <-time.After(kill):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done //nolint:errcheck // killed: its error only says so
				return true, ""
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("ingest failed: %v\n%s", err, stderr.String())
		}
		return false, lastLine(stderr.String())
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for kills < 20 {
		killed, line := runIngest(time.Duration(rng.IntN(2500)+1) * time.Millisecond)
		if killed {
			kills++
		} else {
			t.Logf("run finished before its kill: %s", line)
		}
	}
	// Run to the end.
	for i := 0; ; i++ {
		_, line := runIngest(0)
		t.Logf("clean run: %s", line)
		if strings.Contains(line, " 0 records") || i > 20 {
			break
		}
	}

	// Count what is committed.
	st, err := local.New(wh)
	if err != nil {
		t.Fatal(err)
	}
	var files, dlqFiles []string
	committed := map[string]bool{}
	var dlqRecords int64
	err = st.List(ctx, warehouse.CommitsPrefix, func(o storage.Object) error {
		if _, ok := warehouse.ParseCommitSeq(o.Key); !ok {
			return nil // a head
		}
		b, err := storage.ReadAll(ctx, st, o.Key)
		if err != nil {
			return err
		}
		var c warehouse.Commit
		if err := warehouse.Unmarshal(o.Key, b, &c); err != nil {
			return err
		}
		for _, f := range c.Files {
			files = append(files, "'"+filepath.Join(wh, f.Key)+"'")
			committed[f.Key] = true
		}
		for _, f := range c.DLQ {
			dlqFiles = append(dlqFiles, filepath.Join(wh, f.Key))
			committed[f.Key] = true
			dlqRecords += f.Records
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := duckdbtest.Query(t, fmt.Sprintf(`SELECT _kafka_partition AS p, count(*) AS n, count(DISTINCT _kafka_offset) AS d, min(_kafka_offset), max(_kafka_offset)
		FROM read_parquet([%s]) GROUP BY p ORDER BY p`, strings.Join(files, ",")))
	rows := map[int]int64{}
	for _, r := range res.Rows {
		p, _ := strconv.Atoi(*r[0])
		n, _ := strconv.ParseInt(*r[1], 10, 64)
		d, _ := strconv.ParseInt(*r[2], 10, 64)
		if n != d {
			t.Errorf("partition %d: %d rows but %d distinct offsets: duplicates", p, n, d)
		}
		rows[p] = n
	}
	// Dead letters: count each offset once.
	seen := map[string]bool{}
	for _, f := range dlqFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e struct {
				Partition int32
				Offset    int64
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			k := fmt.Sprint(e.Partition, "/", e.Offset)
			if seen[k] {
				t.Errorf("dead letter %s twice", k)
			}
			seen[k] = true
		}
	}
	var sum int64
	for p := range partitions {
		sum += rows[p]
	}
	if late := duckdbtest.Query(t, fmt.Sprintf(`SELECT count(*) FROM read_parquet([%s]) WHERE _late`, strings.Join(files, ","))); *late.Rows[0][0] != "0" {
		t.Errorf("%s rows flagged late, but every partition's event times only grow", *late.Rows[0][0])
	}
	if sum+int64(len(seen)) != int64(total) || len(seen) != bad || dlqRecords != int64(bad) {
		t.Errorf("committed %d rows + %d dead letters (commit records say %d) for %d records (%d bad): not exactly once", sum, len(seen), dlqRecords, total, bad)
	}
	for p := range partitions {
		t.Logf("partition %d: %d records produced, %d rows committed", p, produced[p], rows[p])
	}
	// Nothing uncommitted is left behind.
	orphans := 0
	_ = st.List(ctx, warehouse.BinlogPrefix, func(o storage.Object) error {
		if _, ok := warehouse.ParseBinlogKey(o.Key); ok && !committed[o.Key] {
			orphans++
		}
		return nil
	})
	_ = st.List(ctx, warehouse.DLQPrefix, func(o storage.Object) error {
		if !committed[o.Key] {
			orphans++
		}
		return nil
	})
	if orphans > 0 {
		t.Errorf("%d files no commit lists are still in the warehouse", orphans)
	}
	t.Logf("%d kills; %d files, %d rows, %d dead letters: each record exactly once", kills, len(files), sum, len(seen))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
