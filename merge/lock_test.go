package merge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// pausingStore stops the first Put of a key with the given prefix until
// released.
type pausingStore struct {
	storage.Store
	prefix  string
	once    sync.Once
	paused  chan struct{}
	release chan struct{}
}

func newPausingStore(st storage.Store, prefix string) *pausingStore {
	return &pausingStore{Store: st, prefix: prefix, paused: make(chan struct{}), release: make(chan struct{})}
}

func (p *pausingStore) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.HasPrefix(path.Base(key), p.prefix) {
		first := false
		p.once.Do(func() { first = true })
		if first {
			close(p.paused)
			<-p.release
		}
	}
	return p.Store.Put(ctx, key, r)
}

// writeLease writes a lease record as a merge run would.
func writeLease(t *testing.T, st storage.Store, table string, d warehouse.Date, gen int64, host string, pid int, expires time.Time) {
	t.Helper()
	rec := fmt.Sprintf(`{"format_version": 1, "table": %q, "date": %q, "generation": %d, "run_id": "other-run", "host": %q, "pid": %d,
		"started": %q, "expires": %q, "state": "running"}`, table, d, gen, host, pid,
		time.Now().UTC().Format(time.RFC3339), expires.UTC().Format(time.RFC3339Nano))
	if err := st.Put(context.Background(), warehouse.SnapshotDir(table, d)+warehouse.LockName(gen), strings.NewReader(rec)); err != nil {
		t.Fatal(err)
	}
}

// TestOverlappingMergesNeverBothPublish: while one merge of a table-day
// runs, a second fails with ErrLocked, says who holds the lock, and
// writes nothing; the first publishes.
func TestOverlappingMergesNeverBothPublish(t *testing.T) {
	d1 := mustDate(t, "2024-03-01")
	st, _, _ := ordersWarehouse(t, 1000, d1)
	ps := newPausingStore(st, warehouse.SnapshotDataPrefix)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = ps, tableRule("orders", "id"), d1
	first := make(chan error, 1)
	go func() {
		_, err := merge.Run(context.Background(), o)
		first <- err
	}()
	<-ps.paused // the first run is writing its first data file
	before := listKeys(t, st, warehouse.SnapshotDir("orders", d1))
	o2 := o
	o2.Store = st
	_, err := merge.Run(context.Background(), o2)
	if !errors.Is(err, merge.ErrLocked) {
		t.Fatalf("second merge: %v, want ErrLocked", err)
	}
	host, _ := os.Hostname()
	for _, want := range []string{"another merge of this table and day is running", "host " + host, "pid ", "_lock-000001.json"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if after := listKeys(t, st, warehouse.SnapshotDir("orders", d1)); after != before {
		t.Errorf("the losing run wrote something:\nbefore %s\nafter  %s", before, after)
	}
	close(ps.release)
	if err := <-first; err != nil {
		t.Fatalf("first merge: %v", err)
	}
	if m := readManifest(t, st, "orders", d1); m.Rows != 1000 {
		t.Errorf("published %d rows", m.Rows)
	}
}

func listKeys(t *testing.T, st storage.Store, prefix string) string {
	var keys []string
	if err := st.List(context.Background(), prefix, func(o storage.Object) error {
		keys = append(keys, path.Base(o.Key))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(keys, " ")
}

// TestLeaseTakeover: a lease of a dead process on this host is taken over
// at once; one of another host only once it expired.
func TestLeaseTakeover(t *testing.T) {
	d1 := mustDate(t, "2024-03-01")
	st, _, _ := ordersWarehouse(t, 100, d1)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = st, tableRule("orders", "id"), d1

	// A process that is gone (kill -9 of a merge leaves such a lease).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	host, _ := os.Hostname()
	writeLease(t, st, "orders", d1, 1, host, cmd.Process.Pid, time.Now().Add(time.Hour))
	s, err := merge.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("dead process's lease: %v", err)
	}
	if s.Generation != 2 {
		t.Errorf("generation %d, want 2", s.Generation)
	}

	// Another host's valid lease: wait.
	writeLease(t, st, "orders", d1, 3, "elsewhere", 1, time.Now().Add(time.Hour))
	_, err = merge.Run(context.Background(), o)
	if !errors.Is(err, merge.ErrLocked) || !strings.Contains(err.Error(), "host elsewhere") {
		t.Fatalf("valid lease of another host: %v", err)
	}
	// Expired: taken over.
	writeLease(t, st, "orders", d1, 3, "elsewhere", 1, time.Now().Add(-time.Second))
	if s, err = merge.Run(context.Background(), o); err != nil || s.Generation != 4 {
		t.Fatalf("expired lease: generation %d, %v", s.Generation, err)
	}
	// Earlier lease records are removed once a generation finished.
	if keys := listKeys(t, st, warehouse.SnapshotDir("orders", d1)+warehouse.LockPrefix); keys != "_lock-000004.json" {
		t.Errorf("lock records left: %s", keys)
	}
}

// TestLostLeaseDoesNotPublish: a run whose lease was taken over (a higher
// generation appeared while it was paused) stops and publishes nothing.
func TestLostLeaseDoesNotPublish(t *testing.T) {
	d1 := mustDate(t, "2024-03-01")
	st, _, _ := ordersWarehouse(t, 100, d1)
	ps := newPausingStore(st, warehouse.SnapshotDataPrefix)
	o := merge.DefaultOptions()
	o.Store, o.Table, o.Date = ps, tableRule("orders", "id"), d1
	o.LeaseTTL = 300 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := merge.Run(context.Background(), o)
		done <- err
	}()
	<-ps.paused
	// Another run took over (as after the lease expired).
	writeLease(t, st, "orders", d1, 2, "elsewhere", 1, time.Now().Add(time.Hour))
	time.Sleep(3 * o.LeaseTTL)
	close(ps.release)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "lease lost") {
		t.Fatalf("run with a lost lease: %v", err)
	}
	if ok, _ := storage.Exists(context.Background(), st, warehouse.SnapshotManifest("orders", d1)); ok {
		t.Error("a run that lost its lease published")
	}
	var leftovers bytes.Buffer
	_ = st.List(context.Background(), warehouse.SnapshotDir("orders", d1), func(obj storage.Object) error {
		if strings.HasPrefix(path.Base(obj.Key), warehouse.SnapshotDataPrefix) {
			fmt.Fprintln(&leftovers, obj.Key)
		}
		return nil
	})
	if leftovers.Len() > 0 {
		t.Errorf("data files left behind:\n%s", leftovers.String())
	}
}
