package duckdbtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// pool holds the one `node query.mjs --serve` process of this test binary.
// Queries are answered one at a time; a process that died or timed out is
// replaced on the next query.
type pool struct {
	mu sync.Mutex
	w  *worker
}

var defaultPool pool

type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan lineOrErr // one per answer read from stdout
	stderr *tail
	exited chan struct{} // closed once the process is waited for
}

type lineOrErr struct {
	line []byte
	err  error
}

// query runs sql; qerr is DuckDB's rejection, err a failure of the harness.
func (p *pool) query(sql string, timeout time.Duration) (r *Result, qerr, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		w, err := startWorker()
		if err != nil {
			return nil, nil, err
		}
		p.w = w
	}
	w := p.w
	req, err := json.Marshal(struct {
		SQL string `json:"sql"`
	}{sql})
	if err != nil {
		return nil, nil, err
	}
	if _, err := w.stdin.Write(append(req, '\n')); err != nil {
		p.w = nil
		return nil, nil, w.fail(fmt.Errorf("writing query to node: %w", err))
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var got lineOrErr
	select {
	case got = <-w.lines:
	case <-timer.C:
		p.w = nil
		return nil, nil, w.fail(fmt.Errorf("query took longer than %v; node was killed", timeout))
	}
	if got.err != nil {
		p.w = nil
		return nil, nil, w.fail(fmt.Errorf("reading answer from node: %w", got.err))
	}
	var ans struct {
		Result
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(got.line, &ans); err != nil {
		p.w = nil
		return nil, nil, w.fail(fmt.Errorf("bad answer from node (%w): %.500s", err, got.line))
	}
	if ans.Error != nil {
		return nil, &QueryError{Message: *ans.Error}, nil
	}
	res := ans.Result
	if res.Columns == nil {
		res.Columns = []Column{}
	}
	if res.Rows == nil {
		res.Rows = [][]*string{}
	}
	return &res, nil, nil
}

func startWorker() (*worker, error) {
	s := locate()
	if s.err != nil {
		return nil, s.err
	}
	cmd := exec.Command(s.node, s.script, "--serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w := &worker{
		cmd:    cmd,
		stdin:  stdin,
		lines:  make(chan lineOrErr, 1),
		stderr: &tail{max: 64 << 10},
		exited: make(chan struct{}),
	}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s %s --serve: %w", s.node, s.script, err)
	}
	go func() {
		br := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				w.lines <- lineOrErr{err: err}
				close(w.lines)
				_ = cmd.Wait()
				close(w.exited)
				return
			}
			w.lines <- lineOrErr{line: line}
		}
	}()
	return w, nil
}

// fail kills the process and returns err with its exit status and stderr.
func (w *worker) fail(err error) error {
	_ = w.stdin.Close()
	_ = w.cmd.Process.Kill()
	// Drain answers so the reader goroutine reaches Wait.
	go func() {
		for range w.lines {
		}
	}()
	state := "did not exit within 5s of SIGKILL"
	select {
	case <-w.exited:
		state = w.cmd.ProcessState.String()
	case <-time.After(5 * time.Second):
	}
	return fmt.Errorf("%w (node: %s)\nnode stderr:\n%s", err, state, w.stderr.String())
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append([]byte(nil), t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(bytes.ToValidUTF8(t.buf, []byte("?"))))
	if s == "" {
		return "(empty)"
	}
	return s
}
