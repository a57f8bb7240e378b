// Package s3test runs a real S3 server, versitygw over a temporary
// directory, for tests of code that uses storage/s3.
//
// The versitygw binary is found through the environment variable
// BINLAKE_VERSITYGW, then PATH, then $(go env GOPATH)/bin. Without it, Start
// skips the test, or fails it when the environment variable CI is set, so
// that CI never passes by skipping. Install it with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/binlake/binlake/storage/s3"
)

// InstallCommand installs the versitygw version the tests are written for.
const InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// startTimeout bounds how long Start waits for versitygw to answer.
const startTimeout = 20 * time.Second

// Server is a running versitygw gateway with a posix backend in a temporary
// directory. It lives until the test that started it ends.
type Server struct {
	// Endpoint is the gateway's base URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root user's credentials.
	AccessKey string
	SecretKey string
	// Client is an SDK client for the gateway, for tests that look behind
	// a Store (multipart uploads, raw objects).
	Client *awss3.Client

	buckets atomic.Int64
}

// Start starts versitygw on a free port of 127.0.0.1 and waits until it
// answers. The server is stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("s3test: %v; CI must run the S3 tests: %s", err, InstallCommand)
		}
		t.Skipf("s3test: %v; install it with: %s", err, InstallCommand)
	}
	s := &Server{AccessKey: "binlake-test", SecretKey: "binlake-test-secret"}
	dir := t.TempDir()
	// The free port may be taken again before versitygw binds it; then
	// versitygw exits and another port is tried.
	for attempt := 1; ; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			t.Fatalf("s3test: %v", err)
		}
		err = s.run(t, bin, addr, dir)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("s3test: %v", err)
		}
	}
	s.Client = awss3.New(awss3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Region:       s3.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	return s
}

// run starts versitygw on addr, registers its clean-up with t, and waits
// until it answers.
func (s *Server) run(t testing.TB, bin, addr, dir string) error {
	var out syncBuffer
	cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--port", addr, "--quiet", "posix", dir)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	if err := waitReady("http://"+addr, done); err != nil {
		if errors.Is(err, errExited) && waitErr != nil {
			err = fmt.Errorf("%w (%w)", err, waitErr)
		}
		return fmt.Errorf("versitygw on %s: %w\noutput:\n%s", addr, err, out.String())
	}
	s.Endpoint = "http://" + addr
	return nil
}

// NewBucket creates an empty bucket and returns its name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bucket-%d", s.buckets.Add(1))
	if _, err := s.Client.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// Options returns s3.Options for a Store in bucket under prefix on this
// server.
func (s *Server) Options(bucket, prefix string) s3.Options {
	return s3.Options{
		Bucket:          bucket,
		Prefix:          prefix,
		Endpoint:        s.Endpoint,
		Region:          s3.DefaultRegion,
		PathStyle:       true,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
	}
}

// findBinary locates versitygw.
func findBinary() (string, error) {
	if p := os.Getenv("BINLAKE_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BINLAKE_VERSITYGW: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("versitygw is not in PATH and go env GOPATH failed: %w", err)
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(gopath))) {
		p := filepath.Join(dir, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("versitygw not found in BINLAKE_VERSITYGW, PATH or $GOPATH/bin")
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// errExited reports that versitygw exited before it answered.
var errExited = errors.New("exited before answering")

// waitReady polls endpoint until it answers HTTP, done is closed (the
// process exited) or startTimeout passes.
func waitReady(endpoint string, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil // any answer, even 403 to an unsigned request
		}
		select {
		case <-done:
			return errExited
		case <-ctx.Done():
			return fmt.Errorf("no answer after %v", startTimeout)
		case <-tick.C:
		}
	}
}

// syncBuffer collects the server's output from two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
