package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinlake builds the binlake command once per test binary.
func buildBinlake(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "binlake-merge-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "binlake")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/binlake/binlake/cmd/binlake").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build binlake: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// copyDir copies a directory tree (regular files only).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMergeUnderKill runs a real binlake merge process and kills it with
// SIGKILL at random instants, at least 20 times, re-running it each time.
// After every kill the published day, read through its manifest, is the
// old state (no day 2) or the complete new one, never a mix; the final
// result equals that of a merge that was never interrupted, byte for
// byte.
func TestMergeUnderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills binlake processes")
	}
	if raceEnabled {
		t.Skip("runs in the non-race pass of make test (the merges are separate processes)")
	}
	ctx := context.Background()
	bin := buildBinlake(t)
	root := t.TempDir()
	wh := filepath.Join(root, "wh")
	st, err := local.New(wh)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(root, "binlake.yaml")
	writeCfg := func(path, wh string) {
		if err := os.WriteFile(path, []byte(fmt.Sprintf(`warehouse: %s
tables:
  - name: orders
    match: '^shop\.orders_\d+$'
    key: [id]
    bootstrap: empty
merge:
  file_size: 192KiB
  memory_budget: 24MiB
  spill_dir: %s
`, wh, filepath.Join(wh, "..", "spill"))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(cfgPath, wh)
	d1, d2 := mustDate(t, "2024-03-01"), mustDate(t, "2024-03-02")
	zone := warehouse.NewZone(nil)

	// Day 1: 150k rows; day 2: 60k changes all over the key space.
	w := fakeingest.New(st, "orders", "binlog")
	w.Now = func() time.Time { return time.Date(2024, 3, 3, 1, 0, 0, 0, time.UTC) }
	if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)", "amount", "decimal(10,2)"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	const n1, n2 = 150_000, 60_000
	var rows []fakeingest.Row
	for i := range n1 {
		r := orderRow("insert", int64(i+1), int64(i*2), fmt.Sprintf("n%d", i))
		r.Table = "orders_" + strconv.Itoa(i%4)
		rows = append(rows, r)
	}
	if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 10}, Version: 1, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	rows = rows[:0]
	for i := range n2 {
		id := rng.Int64N(n1 * 2)
		op := []string{"update", "update", "insert", "delete"}[rng.IntN(4)]
		r := orderRow(op, int64(1_000_000+i), id, fmt.Sprintf("day2-%d", i))
		r.Table = "orders_" + strconv.Itoa(int(id/2)%4)
		rows = append(rows, r)
	}
	for h := range 4 {
		part := rows[h*n2/4 : (h+1)*n2/4]
		if _, err := w.Commit(ctx, int32(h%2), fakeingest.File{Hour: warehouse.Hour{Date: d2, Hour: h * 6}, Version: 1, Rows: part}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []warehouse.Date{d1, d2} {
		if err := w.Ready(ctx, zone, d); err != nil {
			t.Fatal(err)
		}
	}
	runBin := func(cfg string, date warehouse.Date, kill time.Duration) (killed bool, took time.Duration) {
		cmd := exec.Command(bin, "merge", "--config", cfg, "--date", date.String(), "--log-format", "json", "--log-level", "warn")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var timer <-chan time.Time
		if kill > 0 {
			timer = time.After(kill)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("binlake merge --date %s: %v\n%s", date, err, stderr.String())
			}
			return false, time.Since(start)
		case <-timer:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done //nolint:errcheck // killed: its error only says so
			return true, time.Since(start)
		}
	}
	runBin(cfgPath, d1, 0)
	day1 := readSnapshot(t, st, "orders", d1)
	day1Manifest, _ := os.ReadFile(filepath.Join(wh, warehouse.SnapshotManifest("orders", d1)))

	// The reference: day 2 merged once, without interruption, on a copy.
	refRoot := t.TempDir()
	copyDir(t, wh, filepath.Join(refRoot, "wh"))
	refCfg := filepath.Join(refRoot, "binlake.yaml")
	writeCfg(refCfg, filepath.Join(refRoot, "wh"))
	_, took := runBin(refCfg, d2, 0)
	refSt, err := local.New(filepath.Join(refRoot, "wh"))
	if err != nil {
		t.Fatal(err)
	}
	ref := readSnapshot(t, refSt, "orders", d2)
	t.Logf("uninterrupted merge of day 2: %v, %d rows in %d files", took, len(ref.rows), len(ref.manifest.Files))

	check := func(when string) (published bool) {
		t.Helper()
		if b, _ := os.ReadFile(filepath.Join(wh, warehouse.SnapshotManifest("orders", d1))); !bytes.Equal(b, day1Manifest) {
			t.Fatalf("%s: day 1's manifest changed", when)
		}
		if _, err := os.Stat(filepath.Join(wh, warehouse.SnapshotManifest("orders", d2))); err != nil {
			return false // the old state: day 2 not published
		}
		// Byte for byte the files of the uninterrupted merge.
		got := readManifest(t, st, "orders", d2)
		gotFiles, refFiles := slices.Concat(got.Files, got.Tombstones), slices.Concat(ref.manifest.Files, ref.manifest.Tombstones)
		if len(gotFiles) != len(refFiles) || got.Rows != ref.manifest.Rows {
			t.Fatalf("%s: published day 2 has %d files and %d rows, the uninterrupted merge %d and %d", when, len(gotFiles), got.Rows, len(refFiles), ref.manifest.Rows)
		}
		for i, f := range gotFiles {
			a, err := os.ReadFile(filepath.Join(wh, f.Key))
			if err != nil {
				t.Fatalf("%s: a file the manifest lists: %v", when, err)
			}
			b, _ := os.ReadFile(filepath.Join(refRoot, "wh", refFiles[i].Key))
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: %s differs from the uninterrupted merge's %s", when, f.Key, refFiles[i].Key)
			}
		}
		return true
	}
	// Phase 1: kills within the time an uninterrupted run takes (mostly
	// before day 2 is first published), then a run to the end; phase 2:
	// kills of re-runs of the published day, anywhere.
	kills, completed, before, runs := 0, 0, 0, 0
	for phase, n := range []int{12, 10} {
		span := int64(took) * 9 / 10
		if phase == 1 {
			span = int64(took) * 5 / 4
			runBin(cfgPath, d2, 0)
			completed++
		}
		for k := 0; k < n; {
			at := time.Duration(rng.Int64N(span)) + time.Millisecond
			killed, _ := runBin(cfgPath, d2, at)
			runs++
			if killed {
				kills++
				k++
			} else {
				completed++
			}
			published := check(fmt.Sprintf("after run %d (killed at %v: %v)", runs, at, killed))
			if killed && !published {
				before++
			}
			t.Logf("run %d: killed=%v at %v; day 2 published: %v", runs, killed, at.Round(time.Millisecond), published)
			if runs > 80 {
				t.Fatal("too many runs")
			}
		}
	}
	// A last run to completion: same rows, and same data bytes.
	runBin(cfgPath, d2, 0)
	if !check("final") {
		t.Fatal("day 2 not published after a clean run")
	}
	if got := readSnapshot(t, st, "orders", d2); !slices.Equal(got.rows, ref.rows) || !slices.Equal(got.tombstones, ref.tombstones) {
		t.Fatalf("day 2 rows differ from the uninterrupted merge")
	}
	got := readManifest(t, st, "orders", d2)
	if s := readSnapshot(t, st, "orders", d1); !slices.Equal(s.rows, day1.rows) {
		t.Error("day 1 changed")
	}
	// Nothing the manifest does not list is left in dt=D, and no spill
	// directory is left.
	listed := map[string]bool{}
	for _, f := range slices.Concat(got.Files, got.Tombstones) {
		listed[f.Key] = true
	}
	err = filepath.WalkDir(filepath.Join(wh, warehouse.SnapshotDir("orders", d2)), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(wh, p)
		name := filepath.Base(p)
		if !listed[filepath.ToSlash(rel)] && name != warehouse.ManifestName && name != warehouse.SuccessName && !strings.HasPrefix(name, warehouse.LockPrefix) {
			t.Errorf("left over: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "spill")); len(entries) > 0 {
		t.Errorf("spill directory not empty: %v", entries)
	}
	t.Logf("%d kills (%d before day 2 was first published), %d completed runs; day 2 identical to the uninterrupted merge", kills, before, completed)
}
