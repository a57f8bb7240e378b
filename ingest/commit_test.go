package ingest_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// commitGate lets a run's first commit record create through (a run
// commits its first partition alone) and holds every later one until the
// other parts-1 partitions' creates have arrived (or a timeout passed: a
// run that commits one partition after the other never gets there), then
// fails the create of partition fail's.
type commitGate struct {
	storage.Store
	parts int
	fail  int32

	mu      sync.Mutex
	arrived int
	all     chan struct{}
	// together is how many creates after the first had arrived when one
	// gave up waiting (0 if none did).
	together int
}

var errCommitRefused = errors.New("commit refused by the test")

func (g *commitGate) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if _, ok := warehouse.ParseCommitSeq(key); !ok {
		return g.Store.PutIfAbsent(ctx, key, data)
	}
	g.mu.Lock()
	g.arrived++
	first := g.arrived == 1
	if g.arrived == g.parts {
		close(g.all)
	}
	g.mu.Unlock()
	if !first {
		select {
		case <-g.all:
		case <-time.After(5 * time.Second):
			g.mu.Lock()
			g.together = g.arrived - 1
			g.mu.Unlock()
		}
	}
	if key == warehouse.CommitKey(topic, g.fail, 1) {
		return errCommitRefused
	}
	return g.Store.PutIfAbsent(ctx, key, data)
}

// TestPartitionsCommitConcurrently checks that a run creates the commit
// records of its partitions after the first at the same time, that one
// partition's failed
// commit leaves the others' standing, and that the next run commits that
// partition's records, each once.
func TestPartitionsCommitConcurrently(t *testing.T) {
	ctx := context.Background()
	const parts = 3
	kc := startKafka(t, parts)
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	produce(t, kc, spreadInserts(es, 30, parts)...)
	st := mem.New()
	g := &commitGate{Store: st, parts: parts, fail: 1, all: make(chan struct{})}
	_, err := ingest.Run(ctx, options(t, kc, g, es.Add(time.Hour)))
	if !errors.Is(err, errCommitRefused) {
		t.Fatalf("run whose commit of partition 1 fails: err = %v, want errCommitRefused", err)
	}
	if g.together > 0 {
		t.Fatalf("only %d of the %d commit creates after the first arrived together: the partitions commit one after the other", g.together, parts-1)
	}
	if got := slices.Sorted(maps.Keys(lastCommits(t, st))); !slices.Equal(got, []int32{0, 2}) {
		t.Fatalf("after the failed run partitions %v have commits, want 0 and 2", got)
	}
	if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	offs := committedOffsets(t, st)
	for p := range int32(parts) {
		if got := offs[p]; !slices.Equal(got, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("partition %d: offsets %v committed, want 0-9", p, got)
		}
	}
}
