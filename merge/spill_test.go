package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// TestSpill merges a day whose changes are far larger than the memory
// budget: they are sorted in runs spilled to disk and merged back, and the
// day is the same, byte for byte, as with a budget that holds them all.
func TestSpill(t *testing.T) {
	ctx := context.Background()
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	st, dir, w := ordersWarehouse(t, 20_000, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1
	runMerge(t, o)
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []fakeingest.Row
	for i := range 60_000 {
		id := rng.Int64N(40_000)
		op := []string{"insert", "update", "delete"}[rng.IntN(3)]
		rows = append(rows, orderRow(op, int64(100_000+i), id, fmt.Sprintf("v%d", i)))
	}
	for h := range 3 {
		if _, err := w.Commit(ctx, int32(h), fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: h}, Version: 1, Rows: rows[h*20_000 : (h+1)*20_000]}); err != nil {
			t.Fatal(err)
		}
	}
	// The same warehouse twice.
	dir2 := t.TempDir()
	copyDir(t, dir, dir2)
	st2, err := local.New(dir2)
	if err != nil {
		t.Fatal(err)
	}
	spill := t.TempDir()
	o.Date = d2
	o.SpillDir = spill
	big := runMerge(t, o)
	o.Store = st2
	o.MemoryBudget = 64 << 10 // the changes are some 5 MiB of records
	small := runMerge(t, o)
	t.Logf("budget 1 GiB: %d spill runs; budget 64 KiB: %d spill runs, %s spilled", big.SpillRuns, small.SpillRuns, byteSizeOf(small.SpillBytes))
	if big.SpillRuns != 0 || small.SpillRuns < 20 {
		t.Errorf("spill runs: %d with the default budget, %d with 64 KiB", big.SpillRuns, small.SpillRuns)
	}
	a, b := readSnapshot(t, st, "orders", d2), readSnapshot(t, st2, "orders", d2)
	if !slices.Equal(a.rows, b.rows) || !slices.Equal(a.tombstones, b.tombstones) {
		t.Fatal("spilled merge differs")
	}
	if len(a.manifest.Files) != len(b.manifest.Files) {
		t.Fatalf("%d files vs %d", len(a.manifest.Files), len(b.manifest.Files))
	}
	for i := range a.manifest.Files {
		x, _ := os.ReadFile(filepath.Join(dir, a.manifest.Files[i].Key))
		y, _ := os.ReadFile(filepath.Join(dir2, b.manifest.Files[i].Key))
		if !bytes.Equal(x, y) {
			t.Errorf("file %d differs in bytes", i)
		}
	}
	if big.Updated+big.Inserted+big.Deleted == 0 || !reflect.DeepEqual(small, withTiming(small, big)) {
		t.Errorf("summaries differ:\n%+v\n%+v", big, small)
	}
	if entries, _ := os.ReadDir(spill); len(entries) != 0 {
		t.Errorf("spill directory not empty: %v", entries)
	}
}

// withTiming returns b with a's run-specific fields, for comparing the
// rest.
func withTiming(a, b *merge.Summary) *merge.Summary {
	c := *b
	c.Seconds, c.RunID, c.SpillRuns, c.SpillBytes, c.Merged = a.Seconds, a.RunID, a.SpillRuns, a.SpillBytes, a.Merged
	return &c
}

func byteSizeOf(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// NewSpillDir removes the spill directories of its use that dead
// processes left, and nothing else: not a live process's, not another
// use's.
func TestNewSpillDirRemovesDeadProcesses(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no process to outlive:", err)
	}
	dead := cmd.ProcessState.Pid()
	parent := t.TempDir()
	for _, name := range []string{
		fmt.Sprintf("binlake-verify-%d-1", dead),         // removed
		fmt.Sprintf("binlake-verify-%d-2", os.Getpid()),  // this process's
		fmt.Sprintf("binlake-verify-%d-3", os.Getppid()), // a live one's
		fmt.Sprintf("binlake-merge-%d-4", dead),          // another use's
		"binlake-verify-test-5",                          // not a process's
	} {
		if err := os.MkdirAll(filepath.Join(parent, name, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := merge.NewSpillDir(parent, "verify")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("binlake-verify-%d-", os.Getpid()); filepath.Dir(dir) != parent || !strings.HasPrefix(filepath.Base(dir), want) {
		t.Errorf("spill directory %s, want %s/%s…", dir, parent, want)
	}
	var left []string
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Join(parent, e.Name()) != dir {
			left = append(left, e.Name())
		}
	}
	want := []string{
		fmt.Sprintf("binlake-merge-%d-4", dead),
		fmt.Sprintf("binlake-verify-%d-2", os.Getpid()),
		fmt.Sprintf("binlake-verify-%d-3", os.Getppid()),
		"binlake-verify-test-5",
	}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
