package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/s3"
	"github.com/binlake/binlake/storage/s3/s3test"
	"github.com/binlake/binlake/storage/storagetest"
)

func newStore(t *testing.T, o s3.Options) *s3.Store {
	t.Helper()
	st, err := s3.New(t.Context(), o)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return st
}

func TestContract(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return newStore(t, srv.Options(srv.NewBucket(t), ""))
	})
}

func TestContractPrefixedSmallPages(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		o := srv.Options(srv.NewBucket(t), "warehouse/prod")
		o.ListPageSize = 3
		return newStore(t, o)
	})
}

// data returns n deterministic pseudo-random bytes.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// pendingUploads returns the keys of the bucket's unfinished multipart
// uploads.
func pendingUploads(t *testing.T, srv *s3test.Server, bucket string) []string {
	t.Helper()
	out, err := srv.Client.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// failAfter yields the first n bytes of r, then returns err.
type failAfter struct {
	r   io.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	n, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= n
	return n, err
}

// TestFailedMultipartPutLeavesNothing makes the reader fail after two and a
// half parts have gone out: no object may appear, the previous one must
// stay, and the multipart upload must be aborted.
func TestFailedMultipartPutLeavesNothing(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	o := srv.Options(bucket, "p")
	o.PartSize = s3.MinPartSize
	st := newStore(t, o)
	ctx := t.Context()
	boom := errors.New("source broke")
	big := func() io.Reader { return &failAfter{r: bytes.NewReader(data(1, 20<<20)), n: 12 << 20, err: boom} }

	err := st.Put(ctx, "new", big())
	if !errors.Is(err, boom) {
		t.Fatalf("put: want the reader's error, got %v", err)
	}
	if _, err := st.Stat(ctx, "new"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stat after failed put: want ErrNotFound, got %v", err)
	}

	if err := st.Put(ctx, "old", strings.NewReader("previous")); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "old", big()); !errors.Is(err, boom) {
		t.Fatalf("overwrite: want the reader's error, got %v", err)
	}
	if b, err := storage.ReadAll(ctx, st, "old"); err != nil || string(b) != "previous" {
		t.Errorf("failed overwrite: got %q, %v; want the previous object", b, err)
	}
	if keys := pendingUploads(t, srv, bucket); len(keys) > 0 {
		t.Errorf("multipart uploads left behind: %q", keys)
	}
}

// cancelAfter cancels a context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestCancelledMultipartPutLeavesNothing(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	o := srv.Options(bucket, "")
	o.PartSize = s3.MinPartSize
	st := newStore(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	err := st.Put(ctx, "cancelled", &cancelAfter{r: bytes.NewReader(data(2, 30<<20)), n: 12 << 20, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("put: want context.Canceled, got %v", err)
	}
	if _, err := st.Stat(t.Context(), "cancelled"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stat after cancelled put: want ErrNotFound, got %v", err)
	}
	if keys := pendingUploads(t, srv, bucket); len(keys) > 0 {
		t.Errorf("multipart uploads left behind: %q", keys)
	}
}

// faultProxy is a reverse proxy in front of versitygw that answers the next
// `fail` requests with an S3 error of its status and code, and forwards the
// rest.
type faultProxy struct {
	status    int
	code      string
	fail      atomic.Int64 // requests still to be refused
	refused   atomic.Int64
	forwarded atomic.Int64
	proxy     *httputil.ReverseProxy
}

// startFaultProxy starts a faultProxy on 127.0.0.1 that forwards to srv.
func startFaultProxy(t *testing.T, srv *s3test.Server, status int, code string) (*faultProxy, string) {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	fp := &faultProxy{status: status, code: code, proxy: httputil.NewSingleHostReverseProxy(target)}
	hs := httptest.NewServer(fp) // listens on 127.0.0.1
	t.Cleanup(hs.Close)
	return fp, hs.URL
}

func (fp *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if fp.fail.Add(-1) >= 0 {
		fp.refused.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(fp.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+
			`<Error><Code>%s</Code><Message>injected by the test</Message><RequestId>fault</RequestId></Error>`, fp.code)
		return
	}
	fp.forwarded.Add(1)
	fp.proxy.ServeHTTP(w, r)
}

func TestRetriesThrottling(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusServiceUnavailable, "SlowDown"},
		{http.StatusTooManyRequests, "TooManyRequests"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			fp, endpoint := startFaultProxy(t, srv, tc.status, tc.code)
			o := srv.Options(bucket, tc.code)
			o.Endpoint = endpoint
			o.MaxAttempts = 5
			o.MaxBackoff = 10 * time.Millisecond
			st := newStore(t, o)
			ctx := t.Context()

			fp.fail.Store(3)
			if err := st.Put(ctx, "obj", strings.NewReader("content")); err != nil {
				t.Fatalf("put through 3 throttled attempts: %v", err)
			}
			fp.fail.Store(4)
			b, err := storage.ReadAll(ctx, st, "obj")
			if err != nil || string(b) != "content" {
				t.Fatalf("get through 4 throttled attempts: %q, %v", b, err)
			}
			if got := fp.refused.Load(); got != 7 {
				t.Errorf("throttled %d requests, want 7 (3 for put, 4 for get)", got)
			}
			if got := fp.forwarded.Load(); got != 2 {
				t.Errorf("forwarded %d requests, want 2", got)
			}

			o.MaxAttempts = 2
			st = newStore(t, o)
			fp.refused.Store(0)
			fp.fail.Store(3)
			err = st.Put(ctx, "gave-up", strings.NewReader("x"))
			if err == nil {
				t.Fatal("put with fewer attempts than throttled responses succeeded")
			}
			if errors.Is(err, storage.ErrPermanent) || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExists) {
				t.Errorf("throttling error is classified, want transient: %v", err)
			}
			if want := bucket + "/" + tc.code + "/gave-up"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the object %s", err, want)
			}
			if got := fp.refused.Load(); got != 2 {
				t.Errorf("throttled %d attempts, want MaxAttempts = 2", got)
			}
		})
	}
}

// TestPutIfAbsentConflict checks that a 409 ConditionalRequestConflict is
// retried, and reported as ErrExists when it persists.
func TestPutIfAbsentConflict(t *testing.T) {
	srv := s3test.Start(t)
	fp, endpoint := startFaultProxy(t, srv, http.StatusConflict, "ConditionalRequestConflict")
	o := srv.Options(srv.NewBucket(t), "")
	o.Endpoint = endpoint
	o.MaxAttempts = 3
	o.MaxBackoff = 10 * time.Millisecond
	st := newStore(t, o)
	ctx := t.Context()

	fp.fail.Store(2)
	if err := st.PutIfAbsent(ctx, "commit", []byte("1")); err != nil {
		t.Fatalf("put-if-absent after 2 conflicts: %v", err)
	}
	if err := st.PutIfAbsent(ctx, "commit", []byte("2")); !errors.Is(err, storage.ErrExists) {
		t.Errorf("second put-if-absent: want ErrExists, got %v", err)
	}
	fp.fail.Store(3)
	if err := st.PutIfAbsent(ctx, "other", []byte("1")); !errors.Is(err, storage.ErrExists) {
		t.Errorf("put-if-absent with conflicts on every attempt: want ErrExists, got %v", err)
	}
	if got := fp.refused.Load(); got != 5 {
		t.Errorf("refused %d requests, want 5", got)
	}
}

func TestPermanentErrors(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := t.Context()

	badSecret := srv.Options(bucket, "")
	badSecret.SecretAccessKey = "wrong"
	badKey := srv.Options(bucket, "")
	badKey.AccessKeyID = "nobody"
	for name, o := range map[string]s3.Options{
		"bad secret":     badSecret,
		"unknown key":    badKey,
		"missing bucket": srv.Options("no-such-bucket", ""),
	} {
		st := newStore(t, o)
		if err := st.Put(ctx, "k", strings.NewReader("x")); !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s: put: want ErrPermanent, got %v", name, err)
		}
		if err := st.PutIfAbsent(ctx, "k", []byte("x")); !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s: put-if-absent: want ErrPermanent, got %v", name, err)
		}
		if _, err := st.Get(ctx, "k"); !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s: get: want ErrPermanent, got %v", name, err)
		}
		err := st.List(ctx, "", func(storage.Object) error { return nil })
		if !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s: list: want ErrPermanent, got %v", name, err)
		}
	}
	// HEAD responses have no body to tell a bad signature from a missing
	// key, but the status (403) does.
	if _, err := newStore(t, badSecret).Stat(ctx, "k"); !errors.Is(err, storage.ErrPermanent) {
		t.Errorf("stat with a bad secret: want ErrPermanent, got %v", err)
	}
}

func TestCopyKeepsContent(t *testing.T) {
	srv := s3test.Start(t)
	o := srv.Options(srv.NewBucket(t), "copy")
	o.PartSize = s3.MinPartSize
	st := newStore(t, o)
	ctx := t.Context()
	want := data(3, 11<<20+5) // a multipart object
	// Keys that need escaping in the x-amz-copy-source header.
	const src, dst = "src dir/a+b%c=d.bin", "dst/ü?x#y.bin"
	if err := st.Put(ctx, src, bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if err := st.Copy(ctx, src, dst); err != nil {
		t.Fatalf("copy: %v", err)
	}
	got, err := storage.ReadAll(ctx, st, dst)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy: got %d bytes (%v), want the %d source bytes", len(got), err, len(want))
	}
	if o, err := st.Stat(ctx, dst); err != nil || o.Size != int64(len(want)) {
		t.Errorf("stat copy: %+v, %v", o, err)
	}
}

func TestGetRangeLargeObject(t *testing.T) {
	srv := s3test.Start(t)
	o := srv.Options(srv.NewBucket(t), "")
	o.PartSize = s3.MinPartSize
	st := newStore(t, o)
	ctx := t.Context()
	obj := data(4, 13<<20+77)
	if err := st.Put(ctx, "big", bytes.NewReader(obj)); err != nil {
		t.Fatal(err)
	}
	n := int64(len(obj))
	part := int64(s3.MinPartSize)
	for _, c := range []struct{ off, length int64 }{
		{0, -1}, {0, 1}, {1, 4096}, {part - 10, 20}, {part, part}, {2*part - 1, -1},
		{n - 1, 1}, {n - 1, 1 << 20}, {n, -1}, {n, 5}, {n + 1<<20, -1}, {n / 2, 0},
	} {
		rc, err := st.GetRange(ctx, "big", c.off, c.length)
		if err != nil {
			t.Fatalf("range %d+%d: %v", c.off, c.length, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("range %d+%d: read: %v", c.off, c.length, err)
		}
		lo, hi := min(c.off, n), n
		if c.length >= 0 {
			hi = min(lo+c.length, n)
		}
		if !bytes.Equal(got, obj[lo:hi]) {
			t.Errorf("range %d+%d: got %d bytes, want bytes [%d,%d)", c.off, c.length, len(got), lo, hi)
		}
	}
	if _, err := st.GetRange(ctx, "big", -1, 5); !errors.Is(err, storage.ErrPermanent) {
		t.Errorf("negative offset: want ErrPermanent, got %v", err)
	}
}

// TestPrefixLayout checks where keys land in the bucket and that List sees
// only the store's own objects.
func TestPrefixLayout(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := t.Context()
	raw := func(key string) {
		_, err := srv.Client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(""),
		})
		if err != nil {
			t.Fatalf("raw put %s: %v", key, err)
		}
	}
	raw("wh.txt")       // beside the prefix
	raw("wh/one/dir/")  // a console-style folder marker inside it
	raw("wh/one-other") // shares the prefix's first bytes

	st := newStore(t, srv.Options(bucket, "/wh/one/"))
	if err := st.Put(ctx, "dir/a", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("wh/one/dir/a")}); err != nil {
		t.Errorf("store key dir/a is not at wh/one/dir/a: %v", err)
	}
	var keys []string
	err := st.List(ctx, "", func(o storage.Object) error { keys = append(keys, o.Key); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dir/a"}; !slices.Equal(keys, want) {
		t.Errorf("list: got %q, want %q", keys, want)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	good := s3.Options{Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"}
	for name, edit := range map[string]func(*s3.Options){
		"no bucket":        func(o *s3.Options) { o.Bucket = "" },
		"half credentials": func(o *s3.Options) { o.SecretAccessKey = "" },
		"bad prefix":       func(o *s3.Options) { o.Prefix = "a//b" },
		"small parts":      func(o *s3.Options) { o.PartSize = 1 << 20 },
		"big pages":        func(o *s3.Options) { o.ListPageSize = 1001 },
		"negative retries": func(o *s3.Options) { o.MaxAttempts = -1 },
	} {
		o := good
		edit(&o)
		if _, err := s3.New(t.Context(), o); !errors.Is(err, storage.ErrPermanent) {
			t.Errorf("%s: want ErrPermanent, got %v", name, err)
		}
	}
	if _, err := s3.New(t.Context(), good); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
