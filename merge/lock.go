package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// ErrLocked is returned (wrapped, with who holds the lock) when another
// merge of the same table and day is running.
var ErrLocked = errors.New("another merge of this table and day is running")

// errLeaseLost cancels a run whose lease another run took over, or that
// could not renew it in time.
var errLeaseLost = errors.New("merge lease lost")

// The lock (DESIGN.md §3.8). Each run of a table-day takes the next
// generation G by creating snapshot/<table>/dt=D/_lock-G.json with
// create-if-absent: of two runs that saw the same state, exactly one
// creates it and the other fails with ErrLocked. A run never starts while
// the lease of a running generation is valid: the holder renews it every
// LeaseTTL/3, and it is valid until it expires or, on the same host, its
// process is gone (so a run killed with kill -9 is taken over at once,
// while a run on another host is taken over only after LeaseTTL).
//
// A lease record is never deleted while it is the highest, so generation
// numbers are never reused and the files of two runs never share a name.
// The holder stops (its context is cancelled) if a higher generation
// appears or if it could not renew for LeaseTTL/2, and checks both again
// just before publishing its manifest; a run takes over only after a full
// LeaseTTL without renewal. The margin between the two covers clock
// differences and the time between the check and the write; a process
// stopped for longer than LeaseTTL/2 exactly between them is the case a
// lease cannot exclude on a store without compare-and-swap.
type leaseRecord struct {
	FormatVersion int       `json:"format_version"`
	Table         string    `json:"table"`
	Date          string    `json:"date"`
	Generation    int64     `json:"generation"`
	RunID         string    `json:"run_id"`
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	ProcStart     string    `json:"proc_start,omitempty"`
	Started       time.Time `json:"started"`
	Expires       time.Time `json:"expires"`
	State         string    `json:"state"` // running, published, failed
}

// Lease states.
const (
	stateRunning   = "running"
	statePublished = "published"
	stateFailed    = "failed"
)

// activeRuns are the runs of this process that hold a lease.
var activeRuns sync.Map // run ID → struct{}

func (l *leaseRecord) live(now time.Time, host string) bool {
	if l.State != stateRunning || !now.Before(l.Expires) {
		return false
	}
	if l.Host == host {
		if l.PID == os.Getpid() {
			_, ok := activeRuns.Load(l.RunID)
			return ok
		}
		return processAlive(l.PID, l.ProcStart)
	}
	return true
}

func (l *leaseRecord) String() string {
	return fmt.Sprintf("run %s (host %s, pid %d) started %s, lease valid until %s",
		l.RunID, l.Host, l.PID, l.Started.UTC().Format(time.RFC3339), l.Expires.UTC().Format(time.RFC3339))
}

// dayListing is what a snapshot day directory holds.
type dayListing struct {
	objects []storage.Object
	maxGen  int64
	locks   map[int64]string // generation → key
}

func listDay(ctx context.Context, st storage.Store, dir string) (*dayListing, error) {
	dl := &dayListing{locks: map[int64]string{}}
	if err := st.List(ctx, dir, func(o storage.Object) error {
		dl.objects = append(dl.objects, o)
		if n, ok := warehouse.ParseSnapshotName(path.Base(o.Key)); ok {
			dl.maxGen = max(dl.maxGen, n.Generation)
			if n.Prefix == warehouse.LockPrefix {
				dl.locks[n.Generation] = o.Key
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return dl, nil
}

// lease is a held lock.
type lease struct {
	st   storage.Store
	dir  string
	key  string
	rec  leaseRecord
	ttl  time.Duration
	now  func() time.Time
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	lastRenew time.Time
	lost      error
}

// acquire takes the next generation of a table-day, or fails with
// ErrLocked. cancel is called with errLeaseLost if the lease is lost while
// the run goes on.
func acquire(ctx context.Context, st storage.Store, table string, d warehouse.Date, runID string, ttl time.Duration, now func() time.Time, log *slog.Logger, cancel context.CancelCauseFunc) (*lease, *dayListing, error) {
	dir := warehouse.SnapshotDir(table, d)
	dl, err := listDay(ctx, st, dir)
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	t := now()
	for _, key := range dl.locks {
		rec, err := readLease(ctx, st, key)
		if err != nil {
			return nil, nil, err
		}
		if rec.live(t, host) {
			return nil, nil, fmt.Errorf("table %s dt=%s: %w: %s; if that run is dead, wait until its lease expires or delete %s", table, d, ErrLocked, rec, key)
		}
	}
	gen := dl.maxGen + 1
	l := &lease{st: st, dir: dir, key: dir + warehouse.LockName(gen), ttl: ttl, now: now, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	l.rec = leaseRecord{FormatVersion: warehouse.FormatVersion, Table: table, Date: d.String(), Generation: gen, RunID: runID,
		Host: host, PID: os.Getpid(), ProcStart: procStart(os.Getpid()), Started: t.UTC(), Expires: t.Add(ttl).UTC(), State: stateRunning}
	b, err := warehouse.Marshal(&l.rec)
	if err != nil {
		return nil, nil, err
	}
	if err := st.PutIfAbsent(ctx, l.key, b); err != nil {
		if !errors.Is(err, storage.ErrExists) {
			return nil, nil, fmt.Errorf("create lock %s: %w", l.key, err)
		}
		// Did our own write win and only its answer get lost?
		other, rerr := readLease(ctx, st, l.key)
		if rerr != nil || other.RunID != runID {
			who := "another run"
			if rerr == nil {
				who = other.String()
			}
			return nil, nil, fmt.Errorf("table %s dt=%s: %w: %s started at the same moment and took generation %d", table, d, ErrLocked, who, gen)
		}
	}
	l.lastRenew = t
	activeRuns.Store(runID, struct{}{})
	go l.heartbeat(cancel)
	return l, dl, nil
}

func readLease(ctx context.Context, st storage.Store, key string) (*leaseRecord, error) {
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", key, err)
	}
	rec := new(leaseRecord)
	if err := warehouse.Unmarshal(key, b, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// heartbeat renews the lease until stopped.
func (l *lease) heartbeat(cancel context.CancelCauseFunc) {
	defer close(l.done)
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		if err := l.renew(); err != nil {
			l.mu.Lock()
			l.lost = err
			l.mu.Unlock()
			cancel(err)
			return
		}
	}
}

// renew extends the lease, or says why it is lost.
func (l *lease) renew() error {
	ctx := context.Background()
	if err := l.superseded(ctx); err != nil {
		return err
	}
	t := l.now()
	l.mu.Lock()
	rec := l.rec
	last := l.lastRenew
	l.mu.Unlock()
	rec.Expires = t.Add(l.ttl).UTC()
	b, err := warehouse.Marshal(&rec)
	if err == nil {
		err = l.st.Put(ctx, l.key, bytes.NewReader(b))
	}
	if err != nil {
		l.log.Warn("renew merge lease", "key", l.key, "err", err)
		if t.Sub(last) > l.ttl/2 {
			return fmt.Errorf("%w: could not renew %s since %s: %w", errLeaseLost, l.key, last.UTC().Format(time.RFC3339), err)
		}
		return nil
	}
	l.mu.Lock()
	l.rec, l.lastRenew = rec, t
	l.mu.Unlock()
	return nil
}

// superseded reports a higher generation's lock.
func (l *lease) superseded(ctx context.Context) error {
	dl, err := listDay(ctx, l.st, l.dir)
	if err != nil {
		return nil // cannot tell; the renewal deadline still applies
	}
	for g, key := range dl.locks {
		if g > l.rec.Generation {
			return fmt.Errorf("%w: %s was created: another run took over", errLeaseLost, key)
		}
	}
	return nil
}

// check is called right before publishing: the lease must be held with
// margin to spare.
func (l *lease) check(ctx context.Context) error {
	l.mu.Lock()
	lost, last := l.lost, l.lastRenew
	l.mu.Unlock()
	if lost != nil {
		return lost
	}
	if age := l.now().Sub(last); age > l.ttl/2 {
		return fmt.Errorf("%w: last renewed %s ago", errLeaseLost, age.Round(time.Second))
	}
	return l.superseded(ctx)
}

// release ends the lease with a final state and removes the lock records
// of earlier generations.
func (l *lease) release(state string, dl *dayListing) {
	close(l.stop)
	<-l.done
	defer activeRuns.Delete(l.rec.RunID)
	ctx := context.Background()
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	if l.lost != nil {
		return // not ours any more
	}
	rec.State, rec.Expires = state, l.now().UTC()
	if b, err := warehouse.Marshal(&rec); err == nil {
		// A lease left "running" makes runs on other hosts wait for its
		// expiry: try a few times.
		for attempt := range 3 {
			if err = l.st.Put(ctx, l.key, bytes.NewReader(b)); err == nil {
				break
			}
			l.log.Warn("release merge lease", "key", l.key, "attempt", attempt+1, "err", err)
		}
	}
	if dl == nil {
		return
	}
	for g, key := range dl.locks {
		if g < rec.Generation {
			_ = l.st.Delete(ctx, key)
		}
	}
}
