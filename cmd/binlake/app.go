package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/storage/s3"
	"github.com/binlake/binlake/warehouse"
)

// env is what the process gets from outside; tests pass their own.
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

// app holds the state of one invocation: global flags, the logger and the
// summary the subcommand fills in.
type app struct {
	env

	configPath  string
	summaryPath string
	logFormat   string
	logLevel    string

	log     *slog.Logger
	command string // "binlake merge", set when a subcommand starts
	started time.Time
	// line is the subcommand's one-line result; details go into the JSON
	// summary.
	line    string
	details any
}

// summary is the JSON written by --summary, for Airflow XCom and monitoring.
type summary struct {
	Command  string    `json:"command"`
	Status   string    `json:"status"` // ok, failed, not_ready, usage_error
	ExitCode int       `json:"exit_code"`
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"duration_seconds"`
	Details  any       `json:"details,omitempty"`
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && a.command == "" {
		// Cobra failed before any subcommand ran: an unknown command,
		// flag or argument.
		err = usageError{err}
	}
	code := exitCode(err)
	if a.command == "" {
		if err != nil {
			fmt.Fprintf(e.stderr, "binlake: %v\nRun 'binlake --help' for usage.\n", err)
		}
		return code
	}
	return a.finish(err, code)
}

// finish prints the one-line summary on stderr and writes the JSON summary.
func (a *app) finish(err error, code int) int {
	s := summary{
		Command:  a.command,
		ExitCode: code,
		Started:  a.started.UTC(),
		Seconds:  time.Since(a.started).Seconds(),
		Details:  a.details,
	}
	switch code {
	case exitOK:
		s.Status = "ok"
	case exitUsage:
		s.Status = "usage_error"
	case exitNotReady:
		s.Status = "not_ready"
	default:
		s.Status = "failed"
	}
	if err != nil {
		s.Error = err.Error()
	}
	line := a.line
	if err != nil {
		line = err.Error()
	}
	fmt.Fprintf(a.stderr, "%s: %s: %s (%.1fs)\n", a.command, s.Status, line, s.Seconds)
	if a.summaryPath != "" {
		if werr := writeSummary(a.summaryPath, s); werr != nil {
			fmt.Fprintf(a.stderr, "%s: write summary: %v\n", a.command, werr)
			if code == exitOK {
				code = exitFailed
			}
		}
	}
	return code
}

// writeSummary writes the JSON summary atomically, so a scheduler never
// reads half of it.
func writeSummary(path string, s summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// start runs before every subcommand: it records the command, checks the
// global flags and sets up logging.
func (a *app) start(cmd *cobra.Command) error {
	a.command = cmd.CommandPath()
	a.started = time.Now()
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "auto":
		if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
		} else {
			a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
		}
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return usagef("--log-format %q: want auto, text or json", a.logFormat)
	}
	return nil
}

// progressBar returns a progress bar on stderr when stderr is a terminal,
// else nil: logs and schedulers get the summary line instead.
func (a *app) progressBar(what string) *progressbar.ProgressBar {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// loadConfig loads --config. Every problem with it is a usage error.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.configPath, a.lookup)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// openStore opens the warehouse's store and lists it once, so a wrong
// bucket, endpoint or credentials fail here, loudly, and not later as an
// object that seems absent ("not ready" forever). This is the one place
// that chooses a storage implementation.
func (a *app) openStore(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	w := cfg.Warehouse
	var st storage.Store
	var err error
	switch w.Scheme {
	case "file":
		st, err = local.New(w.Path)
	case "s3":
		o := s3.Options{Bucket: w.Bucket, Prefix: w.Prefix}
		if c := cfg.S3; c != nil {
			o.Endpoint, o.Region, o.PathStyle = c.Endpoint, c.Region, c.PathStyle
			o.AccessKeyID, o.SecretAccessKey = c.AccessKeyID, c.SecretAccessKey
		}
		st, err = s3.New(ctx, o)
	default:
		err = fmt.Errorf("unsupported scheme %q", w.Scheme)
	}
	if err == nil {
		err = st.List(ctx, warehouse.CatalogPrefix, func(storage.Object) error { return nil })
	}
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", w, err)
	}
	return st, nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
