package mariadbtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // registers driver "mysql"
)

// InstallCommand installs the server on Debian.
const InstallCommand = "apt-get install -y mariadb-server"

// StartTimeout bounds waiting for a server to accept connections.
const StartTimeout = 30 * time.Second

// StopTimeout bounds waiting for a server to exit after SIGTERM.
const StopTimeout = 30 * time.Second

// Options changes how a server is started.
type Options struct {
	// ExtraArgs are appended to mariadbd's command line, after the
	// defaults, so they override them.
	ExtraArgs []string
}

// Server is a running mariadbd.
type Server struct {
	Host     string // always 127.0.0.1
	Port     int
	Socket   string // unix socket path
	DataDir  string
	ErrorLog string // the server's error log file
	Version  string // SELECT VERSION(), e.g. 10.11.19-MariaDB-0+deb12u1-log

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been waited for
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// serverArgs are the options shared by mariadb-install-db and mariadbd;
// they must match, or InnoDB would resize its files on first start.
var serverArgs = []string{
	"--innodb-buffer-pool-size=32M",
	"--innodb-log-file-size=8M",
	"--innodb-log-buffer-size=4M",
	"--innodb-data-file-path=ibdata1:12M:autoextend",
	"--innodb-use-native-aio=0", // avoid io_setup limits with many servers
	"--innodb-doublewrite=0",
	"--innodb-flush-log-at-trx-commit=2",
	"--innodb-buffer-pool-load-at-startup=0",
	"--innodb-buffer-pool-dump-at-shutdown=0",
	"--key-buffer-size=1M",
	"--aria-pagecache-buffer-size=8M",
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_general_ci",
	"--skip-name-resolve",
}

// Start starts a server for the test and stops it in t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bins := locate()
	if bins.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mariadbtest: %v (CI is set, so this fails instead of skipping)", bins.err)
		}
		t.Skipf("mariadbtest: %v", bins.err)
	}
	begin := time.Now()
	base := t.TempDir()
	// sun_path is limited to 108 bytes, and t.TempDir() can be long.
	sockDir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })

	// A free port can be taken by someone else between our probe and the
	// server's bind; try again with another port then.
	var s *Server
	for attempt := 1; ; attempt++ {
		datadir := filepath.Join(base, fmt.Sprintf("data%d", attempt))
		if err := prepareDatadir(bins, datadir); err != nil {
			t.Fatalf("mariadbtest: preparing the data directory: %v", err)
		}
		s, err = start(bins, datadir, filepath.Join(sockDir, "s.sock"), filepath.Join(base, fmt.Sprintf("mariadbd%d.err", attempt)), opts)
		if err == nil {
			break
		}
		if errors.Is(err, errPortInUse) && attempt < 5 {
			t.Logf("mariadbtest: %v; trying another port", err)
			continue
		}
		t.Fatalf("mariadbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("mariadbtest: %v", err)
		}
	})
	t.Logf("mariadbtest: %s on 127.0.0.1:%d, started in %.2fs", s.Version, s.Port, time.Since(begin).Seconds())
	return s
}

var errPortInUse = errors.New("port in use")

func start(bins binaries, datadir, socket, errLog string, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Host:     "127.0.0.1",
		Port:     port,
		Socket:   socket,
		DataDir:  datadir,
		ErrorLog: errLog,
		exited:   make(chan struct{}),
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + datadir,
		"--socket=" + socket,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(datadir, "mariadbd.pid"),
		"--log-error=" + errLog,
		"--log-bin=" + filepath.Join(datadir, "binlog"),
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--server-id=1",
		"--max-connections=200",
		"--table-open-cache=400",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, serverArgs...)
	args = append(args, opts.ExtraArgs...)
	s.cmd = exec.Command(bins.server, args...)
	// Whatever the server prints outside its error log goes there too.
	out, err := os.OpenFile(errLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	setDeathSignal(s.cmd)
	if err := startProcess(s.cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bins.server, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(StartTimeout)
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		s.kill()
		return nil, err
	}
	defer db.Close()
	var lastErr error
	for {
		select {
		case <-s.exited:
			log := s.ErrorLogText()
			if strings.Contains(log, "Address already in use") || strings.Contains(log, "Can't start server: Bind on TCP/IP port") {
				return nil, fmt.Errorf("%w: mariadbd could not bind 127.0.0.1:%d", errPortInUse, port)
			}
			return nil, fmt.Errorf("mariadbd exited during start-up (%w)\ncommand: %s\nerror log %s:\n%s", s.exitErr(), s.cmd, errLog, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.Version)
		cancel()
		if err == nil {
			return s, nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("mariadbd did not accept connections on 127.0.0.1:%d within %v (last error: %w)\ncommand: %s\nerror log %s:\n%s",
				port, StartTimeout, lastErr, s.cmd, errLog, s.ErrorLogText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Stop stops the server: SIGTERM, then SIGKILL after StopTimeout. It is
// called by t.Cleanup; calling it earlier (to test a source going away) is
// fine, and later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			s.stopErr = fmt.Errorf("mariadbd on port %d had already exited (%w); error log:\n%s", s.Port, s.exitErr(), s.ErrorLogText())
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(StopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = fmt.Errorf("mariadbd on port %d did not stop within %v of SIGTERM and was killed; error log:\n%s", s.Port, StopTimeout, s.ErrorLogText())
		}
	})
	return s.stopErr
}

// exitErr is how the process ended, once it has been waited for: an exit
// with status 0 is an error too, since the server should still run.
func (s *Server) exitErr() error {
	if s.waitErr == nil {
		return errors.New("exit status 0")
	}
	return s.waitErr
}

// ErrorLogText returns the server's error log (its last 32 KiB).
func (s *Server) ErrorLogText() string {
	data, err := os.ReadFile(s.ErrorLog)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.ErrorLog, err)
	}
	if len(data) > 32<<10 {
		data = append([]byte("...\n"), data[len(data)-32<<10:]...)
	}
	return string(data)
}

// DSN returns a go-sql-driver/mysql DSN for root over TCP with database db
// ("" for none), parseTime=false, loc=UTC and the session time_zone set to
// '+00:00'.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("root@tcp(%s:%d)/%s?parseTime=false&loc=UTC&time_zone=%s",
		s.Host, s.Port, db, url.QueryEscape("'+00:00'"))
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// DB opens a connection pool to the server (DSN("")), closed in t.Cleanup.
func (s *Server) DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Exec runs each statement in order on one connection, failing the test on
// the first error.
func (s *Server) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("mariadbtest: connecting to %s: %v", s.Addr(), err)
	}
	defer conn.Close()
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("mariadbtest: %v\nstatement: %s", err, stmt)
		}
	}
}

// BinlogPosition returns the current binary log file and position (SHOW
// BINLOG STATUS, or SHOW MASTER STATUS where that is missing).
func (s *Server) BinlogPosition(t testing.TB) (file string, pos uint64) {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	defer db.Close()
	var lastErr error
	for _, q := range []string{"SHOW BINLOG STATUS", "SHOW MASTER STATUS"} {
		file, pos, err := binlogStatus(db, q)
		if err == nil {
			return file, pos
		}
		lastErr = fmt.Errorf("%s: %w", q, err)
	}
	t.Fatalf("mariadbtest: %v", lastErr)
	return "", 0
}

func binlogStatus(db *sql.DB, query string) (string, uint64, error) {
	rows, err := db.Query(query)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", 0, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", 0, err
		}
		return "", 0, errors.New("no rows (is the binary log off?)")
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, err
	}
	var file string
	var pos uint64
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "file":
			file = vals[i].String
		case "position":
			pos, err = strconv.ParseUint(vals[i].String, 10, 64)
			if err != nil {
				return "", 0, fmt.Errorf("position %q: %w", vals[i].String, err)
			}
		}
	}
	if file == "" {
		return "", 0, fmt.Errorf("no File column in %q", cols)
	}
	return file, pos, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// binaries are the located server programs.
type binaries struct {
	server  string // mariadbd or mysqld
	install string // mariadb-install-db or mysql_install_db
	version string // server --version output
	err     error
}

var (
	locateOnce sync.Once
	located    binaries
)

func locate() binaries {
	locateOnce.Do(func() { located = doLocate() })
	return located
}

func lookPath(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return ""
}

func doLocate() binaries {
	b := binaries{
		server:  lookPath("mariadbd", "mysqld"),
		install: lookPath("mariadb-install-db", "mysql_install_db"),
	}
	if b.server == "" || b.install == "" {
		return binaries{err: fmt.Errorf("MariaDB server binaries not found (mariadbd/mysqld and mariadb-install-db/mysql_install_db on PATH or in /usr/sbin, /usr/bin); install them: %s", InstallCommand)}
	}
	out, err := exec.Command(b.server, "--no-defaults", "--version").CombinedOutput()
	if err != nil {
		return binaries{err: fmt.Errorf("%s --version: %w: %s", b.server, err, out)}
	}
	b.version = strings.TrimSpace(string(out))
	return b
}

var (
	templateMu    sync.Mutex
	templateCache = map[string]string{}
)

// prepareDatadir fills datadir (which must not exist) with an initialised
// data directory: a copy of the cached template, or, with the cache off or
// unusable, a fresh mariadb-install-db.
func prepareDatadir(b binaries, datadir string) error {
	if os.Getenv("BINLAKE_MARIADBTEST_CACHE") != "off" {
		if template, err := datadirTemplate(b); err == nil {
			return copyDir(template, datadir)
		} else if !errors.Is(err, errNoCache) {
			return err
		}
	}
	return installDB(b, datadir)
}

var errNoCache = errors.New("no usable cache directory")

// installDB runs mariadb-install-db into datadir.
func installDB(b binaries, datadir string) error {
	args := []string{
		"--no-defaults",
		"--datadir=" + datadir,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, serverArgs...)
	cmd := exec.Command(b.install, args...)
	cmd.Dir = filepath.Dir(datadir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd, err, out.String())
	}
	return nil
}

// datadirTemplate returns an initialised data directory to copy. It is made
// by mariadb-install-db once per key and kept in the user cache directory,
// written to a temporary directory first and renamed into place, so
// concurrent test processes never see a half-made one.
func datadirTemplate(b binaries) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%d\n", b.server, b.install, b.version, os.Geteuid())
	if st, err := os.Stat(b.server); err == nil {
		fmt.Fprintf(h, "%d %d\n", st.Size(), st.ModTime().UnixNano())
	}
	for _, a := range serverArgs {
		fmt.Fprintln(h, a)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]

	templateMu.Lock()
	defer templateMu.Unlock()
	if dir, ok := templateCache[key]; ok {
		return dir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", errNoCache
	}
	parent := filepath.Join(cache, "binlake-mariadbtest")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", errNoCache
	}
	dir := filepath.Join(parent, key)
	if templateValid(dir) {
		templateCache[key] = dir
		return dir, nil
	}
	tmp, err := os.MkdirTemp(parent, key+".tmp-")
	if err != nil {
		return "", errNoCache
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	if err := installDB(b, data); err != nil {
		return "", err
	}
	if err := writeManifest(data); err != nil {
		return "", err
	}
	if err := os.Rename(data, dir); err != nil {
		// Another process may have won the race with a complete template.
		if templateValid(dir) {
			templateCache[key] = dir
			return dir, nil
		}
		_ = os.RemoveAll(dir)
		if err := os.Rename(data, dir); err != nil {
			return "", err
		}
	}
	templateCache[key] = dir
	return dir, nil
}

const manifestName = "binlake-template-manifest"

// writeManifest lists every file and its size, to detect a template that a
// temp cleaner or a person has partly removed.
func writeManifest(dir string) error {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%d %s\n", info.Size(), rel)
		return nil
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), []byte(b.String()), 0o644)
}

func templateValid(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 5 {
		return false
	}
	for _, line := range lines {
		size, rel, ok := strings.Cut(line, " ")
		if !ok {
			return false
		}
		st, err := os.Stat(filepath.Join(dir, rel))
		if err != nil || strconv.FormatInt(st.Size(), 10) != size {
			return false
		}
	}
	return true
}

// copyDir copies the regular files and directories of src to dst, which must
// not exist.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == manifestName {
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
