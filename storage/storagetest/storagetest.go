// Package storagetest is the contract suite every storage.Store
// implementation must pass: call Run from the implementation's tests with a
// constructor that returns a fresh, empty store.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/binlake/binlake/storage"
)

// Run runs the contract suite. newStore must return an empty store that no
// other test uses.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"GetRange", testGetRange},
		{"NotFound", testNotFound},
		{"InvalidKeys", testInvalidKeys},
		{"PutIfAbsent", testPutIfAbsent},
		{"PutIfAbsentConcurrent", testPutIfAbsentConcurrent},
		{"List", testList},
		{"ListMany", testListMany},
		{"ListAfter", testListAfter},
		{"Delete", testDelete},
		{"Copy", testCopy},
		{"FailedPutLeavesNothing", testFailedPut},
		{"CancelledPutLeavesNothing", testCancelledPut},
		{"ReadersNeverSeePartialObjects", testNoPartialReads},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

func assertAbsent(t *testing.T, s storage.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stat %s: want ErrNotFound, got %v", key, err)
	}
	if rc, err := s.Get(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("get %s: want ErrNotFound, got %v", key, err)
	}
	if keys := listKeys(t, s, ""); slices.Contains(keys, key) {
		t.Errorf("list shows %s, which should not exist", key)
	}
}

func listKeys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := s.List(context.Background(), prefix, func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return keys
}

func testPutGetStat(t *testing.T, s storage.Store) {
	ctx := context.Background()
	cases := map[string][]byte{
		"empty":                              {},
		"small/a.txt":                        []byte("hello"),
		"binlog/t/dt=2024-01-01/hr=00/x.bin": randomBytes(1, 3<<20+17),
		"name with spaces/and=equals/ü.json": []byte(`{"k":1}`),
	}
	for key, data := range cases {
		put(t, s, key, data)
	}
	for key, data := range cases {
		if got := get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("get %s: got %d bytes, want %d (content differs)", key, len(got), len(data))
		}
		o, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("stat %s: %v", key, err)
		}
		if o.Key != key || o.Size != int64(len(data)) || o.ModTime.IsZero() {
			t.Errorf("stat %s: got %+v, want size %d and a mod time", key, o, len(data))
		}
	}
	// Overwrite replaces the whole object, shorter or longer.
	put(t, s, "small/a.txt", []byte("hi"))
	if got := get(t, s, "small/a.txt"); string(got) != "hi" {
		t.Errorf("after overwrite: got %q, want %q", got, "hi")
	}
}

func testGetRange(t *testing.T, s storage.Store) {
	ctx := context.Background()
	data := randomBytes(2, 1<<20+333)
	put(t, s, "r/obj", data)
	n := int64(len(data))
	cases := []struct{ off, length int64 }{
		{0, 10}, {0, -1}, {5, -1}, {n - 8, 8}, {n - 8, 100}, {12345, 65536}, {n, 10}, {n, -1}, {n + 100, 5}, {0, 0},
	}
	for _, c := range cases {
		rc, err := s.GetRange(ctx, "r/obj", c.off, c.length)
		if err != nil {
			t.Fatalf("range %d+%d: %v", c.off, c.length, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("range %d+%d: read: %v", c.off, c.length, err)
		}
		lo := min(c.off, n)
		hi := n
		if c.length >= 0 {
			hi = min(lo+c.length, n)
		}
		if !bytes.Equal(got, data[lo:hi]) {
			t.Errorf("range %d+%d: got %d bytes, want bytes [%d,%d)", c.off, c.length, len(got), lo, hi)
		}
	}
}

func testNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	put(t, s, "exists/a", []byte("x"))
	assertAbsent(t, s, "missing/a")
	if _, err := s.GetRange(ctx, "missing/a", 0, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("get range of missing key: want ErrNotFound, got %v", err)
	}
	if err := s.Copy(ctx, "missing/a", "exists/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("copy of missing key: want ErrNotFound, got %v", err)
	}
	// A key that is only a prefix of other keys is not an object.
	assertAbsent(t, s, "exists")
}

func testInvalidKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a//b", "../escape", "a/../../b", "a/./b", "trailing/"} {
		err := s.Put(ctx, key, bytes.NewReader([]byte("x")))
		if !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("put %q: want ErrPermanent, got %v", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("stat %q: want ErrPermanent, got %v", key, err)
		}
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("invalid puts left objects: %v", keys)
	}
}

func testPutIfAbsent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.PutIfAbsent(ctx, "c/commit-1", []byte("first")); err != nil {
		t.Fatalf("first put-if-absent: %v", err)
	}
	err := s.PutIfAbsent(ctx, "c/commit-1", []byte("second"))
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second put-if-absent: want ErrExists, got %v", err)
	}
	if got := get(t, s, "c/commit-1"); string(got) != "first" {
		t.Errorf("loser changed the object: got %q", got)
	}
	// An object written by Put counts as existing too.
	put(t, s, "c/commit-2", []byte("put"))
	if err := s.PutIfAbsent(ctx, "c/commit-2", nil); !errors.Is(err, storage.ErrExists) {
		t.Errorf("put-if-absent over a Put object: want ErrExists, got %v", err)
	}
}

func testPutIfAbsentConcurrent(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for round := range 5 {
		key := fmt.Sprintf("race/round-%d", round)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.PutIfAbsent(ctx, key, []byte(fmt.Sprintf("writer-%d", i)))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("%s: writers %d and %d both won", key, winner, i)
				}
				winner = i
			case !errors.Is(err, storage.ErrExists):
				t.Fatalf("%s: writer %d: want nil or ErrExists, got %v", key, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no writer won", key)
		}
		if got, want := string(get(t, s, key)), fmt.Sprintf("writer-%d", winner); got != want {
			t.Errorf("%s: content %q, want the winner's %q", key, got, want)
		}
	}
}

func testList(t *testing.T, s storage.Store) {
	ctx := context.Background()
	keys := []string{
		"a/b", "a-b", "a/c/d", "a0", "ab/x",
		"binlog/orders/dt=2024-03-01/hr=00/p0.parquet",
		"binlog/orders/dt=2024-03-01/hr=01/p0.parquet",
		"binlog/orders/dt=2024-03-02/hr=00/p0.parquet",
		"binlog/orders_v2/dt=2024-03-01/hr=00/p0.parquet",
	}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	cases := map[string][]string{
		"":                              sorted,
		"a":                             {"a-b", "a/b", "a/c/d", "a0", "ab/x"},
		"a/":                            {"a/b", "a/c/d"},
		"binlog/orders/":                sorted[5:8],
		"binlog/orders":                 sorted[5:9],
		"binlog/orders/dt=2024-03-01/":  sorted[5:7],
		"binlog/orders/dt=2024-03-0":    sorted[5:8],
		"binlog/orders/dt=2024-03-03/":  {},
		"nothing/here/":                 {},
		"binlog/orders/dt=2024-03-02/h": {"binlog/orders/dt=2024-03-02/hr=00/p0.parquet"},
	}
	for prefix, want := range cases {
		if got := listKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("list %q:\n got %q\nwant %q", prefix, got, want)
		}
	}
	// Sizes are reported.
	err := s.List(ctx, "a/b", func(o storage.Object) error {
		if o.Size != int64(len(o.Key)) {
			t.Errorf("list %s: size %d, want %d", o.Key, o.Size, len(o.Key))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An error from fn stops the listing and is returned.
	stop := errors.New("stop")
	calls := 0
	err = s.List(ctx, "", func(storage.Object) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: got err %v after %d calls, want stop after 1", err, calls)
	}
}

// testListAfter compares ListAfter with List filtered, on keys whose
// segments sort around "/" ("-" and "." before it, "0" after), for
// prefixes and starting keys that fall inside, between and beside them.
func testListAfter(t *testing.T, s storage.Store) {
	ctx := context.Background()
	segs := []string{"a", "a-b", "a.c", "a0", "b"}
	rng := rand.New(rand.NewPCG(1, 2))
	var keys []string
	for len(keys) < 40 {
		var parts []string
		for range 1 + rng.IntN(3) {
			parts = append(parts, segs[rng.IntN(len(segs))])
		}
		k := "la/" + strings.Join(parts, "/")
		// No key may also be a directory of others.
		if slices.ContainsFunc(keys, func(o string) bool {
			return o == k || strings.HasPrefix(o, k+"/") || strings.HasPrefix(k, o+"/")
		}) {
			continue
		}
		keys = append(keys, k)
		put(t, s, k, []byte(k))
	}
	all := listKeys(t, s, "la/")
	if len(all) != len(keys) {
		t.Fatalf("list: %d keys, put %d", len(all), len(keys))
	}
	var starts []string
	for _, k := range all {
		starts = append(starts, k, k[:len(k)-1], k+"0", k[:strings.LastIndexByte(k, '/')+1])
	}
	starts = append(starts, "", "la", "la/", "la0", "z")
	for _, after := range starts {
		for _, prefix := range []string{"la/", "la/a", "la/a/", "la/a-b", "la/b/a"} {
			var want []string
			for _, k := range all {
				if strings.HasPrefix(k, prefix) && k > after {
					want = append(want, k)
				}
			}
			var got []string
			err := s.ListAfter(ctx, prefix, after, func(o storage.Object) error {
				got = append(got, o.Key)
				if o.Size != int64(len(o.Key)) {
					t.Errorf("list %s: size %d, want %d", o.Key, o.Size, len(o.Key))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("list %q after %q: %v", prefix, after, err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("list %q after %q:\n got %q\nwant %q", prefix, after, got, want)
			}
		}
	}
	// An error from fn stops the listing and is returned.
	stop := errors.New("stop")
	calls := 0
	err := s.ListAfter(ctx, "la/", all[3], func(o storage.Object) error {
		calls++
		if o.Key != all[4] {
			t.Errorf("first key after %s: %s, want %s", all[3], o.Key, all[4])
		}
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: got err %v after %d calls, want stop after 1", err, calls)
	}
}

func testListMany(t *testing.T, s storage.Store) {
	var want []string
	for i := range 57 {
		k := fmt.Sprintf("many/%03d/obj", (i*37)%57)
		put(t, s, k, nil)
		want = append(want, k)
	}
	slices.Sort(want)
	if got := listKeys(t, s, "many/"); !slices.Equal(got, want) {
		t.Errorf("list of %d objects: got %d keys, in order %v", len(want), len(got), slices.IsSorted(got))
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	put(t, s, "d/x/1", []byte("1"))
	put(t, s, "d/x/2", []byte("2"))
	if err := s.Delete(ctx, "d/x/1"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	assertAbsent(t, s, "d/x/1")
	if got := listKeys(t, s, "d/"); !slices.Equal(got, []string{"d/x/2"}) {
		t.Errorf("after delete: %v", got)
	}
	if err := s.Delete(ctx, "d/x/1"); err != nil {
		t.Errorf("delete of an absent key: %v", err)
	}
	if err := s.Delete(ctx, "d/x/2"); err != nil {
		t.Fatal(err)
	}
	// The prefix can be written again after it emptied.
	put(t, s, "d/x/3", []byte("3"))
	if got := listKeys(t, s, "d/"); !slices.Equal(got, []string{"d/x/3"}) {
		t.Errorf("after re-put: %v", got)
	}
}

func testCopy(t *testing.T, s storage.Store) {
	ctx := context.Background()
	data := randomBytes(3, 200_000)
	put(t, s, "snapshot/t/dt=2024-03-01/part-0.parquet", data)
	put(t, s, "snapshot/t/dt=2024-03-02/part-0.parquet", []byte("old"))
	if err := s.Copy(ctx, "snapshot/t/dt=2024-03-01/part-0.parquet", "snapshot/t/dt=2024-03-02/part-0.parquet"); err != nil {
		t.Fatalf("copy over existing: %v", err)
	}
	if err := s.Copy(ctx, "snapshot/t/dt=2024-03-01/part-0.parquet", "snapshot/t/dt=2024-03-03/part-0.parquet"); err != nil {
		t.Fatalf("copy to new: %v", err)
	}
	for _, k := range []string{"snapshot/t/dt=2024-03-02/part-0.parquet", "snapshot/t/dt=2024-03-03/part-0.parquet"} {
		if got := get(t, s, k); !bytes.Equal(got, data) {
			t.Errorf("copy %s: content differs", k)
		}
	}
	// Source and copy are independent afterwards.
	put(t, s, "snapshot/t/dt=2024-03-01/part-0.parquet", []byte("new"))
	if err := s.Delete(ctx, "snapshot/t/dt=2024-03-03/part-0.parquet"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "snapshot/t/dt=2024-03-02/part-0.parquet"); !bytes.Equal(got, data) {
		t.Errorf("rewriting the source changed the copy")
	}
	if got := get(t, s, "snapshot/t/dt=2024-03-01/part-0.parquet"); string(got) != "new" {
		t.Errorf("deleting a copy changed the source: %q", got)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func testFailedPut(t *testing.T, s storage.Store) {
	ctx := context.Background()
	boom := errors.New("upstream broke")
	for _, size := range []int{0, 1000, 6 << 20} {
		key := fmt.Sprintf("fail/new-%d", size)
		err := s.Put(ctx, key, &failingReader{randomBytes(4, size), boom})
		if !errors.Is(err, boom) {
			t.Errorf("put with failing reader (%d bytes): want the reader's error, got %v", size, err)
		}
		assertAbsent(t, s, key)
	}
	// A failed overwrite keeps the previous object whole.
	put(t, s, "fail/old", []byte("previous"))
	if err := s.Put(ctx, "fail/old", &failingReader{randomBytes(5, 6<<20), boom}); err == nil {
		t.Fatal("put with failing reader succeeded")
	}
	if got := get(t, s, "fail/old"); string(got) != "previous" {
		t.Errorf("failed overwrite changed the object: %d bytes", len(got))
	}
}

// cancelReader cancels the context after yielding some bytes.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func testCancelledPut(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelReader{r: bytes.NewReader(randomBytes(6, 8<<20)), n: 1 << 20, cancel: cancel}
	if err := s.Put(ctx, "cancel/obj", r); err == nil {
		t.Fatal("cancelled put succeeded")
	}
	assertAbsent(t, s, "cancel/obj")
}

// SelfChecking builds an object whose header holds its length and a hash of
// the body, so a reader can tell a whole object from a partial one with
// CheckWhole.
func SelfChecking(seed uint64, size int) []byte {
	body := randomBytes(seed, size)
	sum := sha256.Sum256(body)
	head := binary.BigEndian.AppendUint64(nil, uint64(size))
	return append(append(head, sum[:]...), body...)
}

// CheckWhole reports whether b is a whole object made by SelfChecking.
func CheckWhole(b []byte) error {
	if len(b) < 40 {
		return fmt.Errorf("%d bytes, shorter than the header", len(b))
	}
	size := binary.BigEndian.Uint64(b)
	if uint64(len(b)-40) != size {
		return fmt.Errorf("body %d bytes, header says %d", len(b)-40, size)
	}
	if sum := sha256.Sum256(b[40:]); !bytes.Equal(sum[:], b[8:40]) {
		return errors.New("body hash does not match the header")
	}
	return nil
}

func testNoPartialReads(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const key = "swap/obj"
	put(t, s, key, SelfChecking(0, 1000))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	reads := 0
	for range 3 {
		wg.Go(func() {
			for ctx.Err() == nil {
				b, err := storage.ReadAll(ctx, s, key)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				reads++
				if err != nil {
					failures = append(failures, "read: "+err.Error())
				} else if err := CheckWhole(b); err != nil {
					failures = append(failures, err.Error())
				}
				mu.Unlock()
			}
		})
	}
	for i := range 30 {
		put(t, s, key, SelfChecking(uint64(i+1), 1000+(i%3)*700_000))
	}
	cancel()
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d reads saw a partial or broken object, first: %s", len(failures), reads, failures[0])
	}
	t.Logf("%d concurrent reads, all whole", reads)
}
