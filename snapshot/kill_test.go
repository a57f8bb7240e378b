package snapshot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/binlake/binlake/internal/duckdbtest"
)

// stagedChunks counts the finished chunks staged in a warehouse.
func stagedChunks(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "snapshot", "orders", "_bootstrap", "shard-*", "chunk-*.json"))
	return len(m)
}

// A real binlake snapshot killed with SIGKILL mid-run, twice, then run to
// the end, publishes the same rows as an uninterrupted run.
func TestSnapshotUnderKill(t *testing.T) {
	if raceEnabled {
		t.Skip("drives real binlake processes; runs in the non-race pass")
	}
	duckdbtest.Require(t)
	srv := fixture(t, 60)

	whole := t.TempDir()
	run(t, testOptions(t, testConfig(t, whole, srv, "")))

	bin := filepath.Join(t.TempDir(), "binlake")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/binlake/binlake/cmd/binlake").CombinedOutput(); err != nil {
		t.Fatalf("build binlake: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "binlake.yaml")
	y := "warehouse: " + dir + "\nsources:\n  rds1: {dsn: 'root@tcp(" + srv.Addr() + ")/'}\ntables:\n  - name: orders\n    match: '^shop_\\d+\\.orders_\\d+$'\n    key: [id]\n"
	if err := os.WriteFile(cfgPath, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"snapshot", "--config", cfgPath, "--table", "orders", "--date", "2024-03-01", "--chunk-rows", "7", "--parallel", "3", "--rate", "600"}
	for _, at := range []int{15, 60} {
		cmd := exec.Command(bin, args...)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for stagedChunks(dir) < at && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		n := stagedChunks(dir)
		if n < at {
			t.Fatalf("only %d chunks staged before the kill, want %d\n%s", n, at, errb.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "_manifest.json")); err == nil {
			t.Fatalf("killed after %d chunks, yet published", n)
		}
		t.Logf("killed after %d staged chunks", n)
	}
	out, err := exec.Command(bin, append(args, "--rate", "0")...).CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resumed after") {
		t.Errorf("the last run did not resume:\n%s", out)
	}
	if got, want := allRows(t, dir, "2024-03-01"), allRows(t, whole, "2024-03-01"); got != want {
		t.Errorf("snapshot after kills differs from an uninterrupted one:\n%s", firstDiff(got, want))
	}
}
