package merge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// TestMergeCommand runs binlake merge as scripts do: a day that is not
// ready exits 75 (and --force merges it anyway, loudly), every table of
// the configuration is merged, and --summary writes the JSON summary.
func TestMergeCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binlake")
	}
	ctx := context.Background()
	bin := buildBinlake(t)
	root := t.TempDir()
	wh := filepath.Join(root, "wh")
	st, err := local.New(wh)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "binlake.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`warehouse: %s
tables:
  - name: orders
    match: '^shop\.orders_\d+$'
    key: [id]
    bootstrap: empty
  - name: users
    match: '^shop\.users$'
    key: [id]
    bootstrap: empty
`, wh)), 0o644); err != nil {
		t.Fatal(err)
	}
	d1 := mustDate(t, "2024-03-01")
	for _, table := range []string{"orders", "users"} {
		w := fakeingest.New(st, table, "binlog_"+table)
		w.Now = func() time.Time { return time.Date(2024, 3, 2, 1, 0, 0, 0, time.UTC) }
		if err := w.Schema(ctx, 1, "id", "int", "name", "varchar(20)", "amount", "decimal(10,2)"); err != nil {
			t.Fatal(err)
		}
		r := orderRow("insert", 1, 1, "a")
		if table == "users" {
			r.Table = "users"
		}
		if _, err := w.Commit(ctx, 0, fakeingest.File{Hour: warehouse.Hour{Date: d1, Hour: 5}, Version: 1, Rows: []fakeingest.Row{r}}); err != nil {
			t.Fatal(err)
		}
	}
	summary := filepath.Join(root, "summary.json")
	run := func(d warehouse.Date, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"merge", "--config", cfg, "--date", d.String(), "--log-format", "text", "--summary", summary}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}
	// No ready markers: not ready, exit 75, nothing published.
	code, stderr := run(d1)
	if code != 75 || !strings.Contains(stderr, "not ready yet") || !strings.Contains(stderr, "--force merges anyway") {
		t.Fatalf("not ready: exit %d\n%s", code, stderr)
	}
	if ok, _ := existsFile(wh, warehouse.SnapshotManifest("orders", d1)); ok {
		t.Fatal("published a day that is not ready")
	}
	// Ready: both tables merged, summary JSON.
	w := fakeingest.New(st, "orders", "binlog_orders")
	if err := w.Ready(ctx, warehouse.NewZone(nil), d1); err != nil {
		t.Fatal(err)
	}
	code, stderr = run(d1)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	last := stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:]
	if !strings.Contains(last, "binlake merge: ok: dt=2024-03-01: 2 tables, 2 rows") {
		t.Errorf("summary line: %s", last)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Status  string `json:"status"`
		Details struct {
			Date   string `json:"date"`
			Forced bool   `json:"forced"`
			Tables []struct {
				Table   string `json:"table"`
				RowsOut int64  `json:"rows_out"`
			} `json:"tables"`
		} `json:"details"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != "ok" || s.Details.Date != "2024-03-01" || len(s.Details.Tables) != 2 || s.Details.Tables[1].Table != "users" ||
		s.Details.Tables[0].RowsOut != 1 || s.Details.Forced {
		t.Errorf("summary: %s", b)
	}
	// Day 2 is not ready; --force merges it, loudly.
	d2 := d1.AddDays(1)
	if code, _ = run(d2); code != 75 {
		t.Fatalf("day 2: exit %d, want 75", code)
	}
	code, stderr = run(d2, "--force", "--table", "users")
	if code != 0 || !strings.Contains(stderr, "--force: merging without checking") || !strings.Contains(stderr, "users dt=2024-03-02: 1 rows") {
		t.Fatalf("--force: exit %d\n%s", code, stderr)
	}
	if code, _ = run(d2, "--table", "nope"); code != 2 {
		t.Errorf("--table nope: exit %d, want 2", code)
	}
}
