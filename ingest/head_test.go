package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// TestCommitHead: each commit moves the partition's head on, and a run on
// a partition with a long history finds its latest commit without listing
// that history — also when the head lags, as after a run that died
// between its commit and its head.
func TestCommitHead(t *testing.T) {
	ctx := context.Background()
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	kc := startKafka(t, 2)
	st := fault.New(mem.New())
	const runs = 40
	for i := range runs + 1 {
		produce(t, kc,
			rec(0, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: 2 * i, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)),
			rec(1, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: 2*i + 1, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)))
		if i == runs {
			// The last run: partition 1's head lags by a commit.
			if err := warehouse.WriteCommitHead(ctx, st, topic, 1, runs-1); err != nil {
				t.Fatal(err)
			}
		}
		listed := st.Listed()
		if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if n := st.Listed() - listed; i == runs && n > 20 {
			t.Errorf("run %d listed %d keys", i+1, n)
		}
	}
	for p := range int32(2) {
		b, err := storage.ReadAll(ctx, st, warehouse.CommitHeadKey(topic, p))
		if err != nil {
			t.Fatal(err)
		}
		var h warehouse.CommitHead
		if err := warehouse.Unmarshal("head", b, &h); err != nil || h.Seq != runs+1 {
			t.Errorf("partition %d: head %+v %v, want commit %d", p, h, err, runs+1)
		}
	}
	if got := committedOffsets(t, st); len(got[0]) != runs+1 || len(got[1]) != runs+1 {
		t.Errorf("committed offsets: %v", got)
	}
}
