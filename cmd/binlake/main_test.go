package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/storage/s3/s3test"
)

// invoke runs binlake in-process and returns the exit code, stdout and
// stderr.
func invoke(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{
		stdout: &out,
		stderr: &errb,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "binlake.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func minimalConfig(t *testing.T) string {
	return writeConfig(t, "warehouse: "+filepath.Join(t.TempDir(), "wh")+`
kafka:
  brokers: [127.0.0.1:9092]
  topics: [binlog_shop]
  format: canal
tables:
  - name: orders
    match: '^shop_\d+\.orders_\d+$'
    key: [id]
    bootstrap: empty
`)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"merge", "--help"}, {"config", "check", "--help"}, {"checkdone", "--help"}} {
		code, out, _ := invoke(t, nil, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(out, "Usage:") {
			t.Errorf("%v: no usage in output:\n%s", args, out)
		}
	}
	_, out, _ := invoke(t, nil, "--help")
	for _, want := range []string{"ingest", "checkdone", "merge", "snapshot", "config", "75 not ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	_, out, _ = invoke(t, nil, "merge", "--help")
	if !strings.Contains(out, "Examples:") || !strings.Contains(out, "--date 2024-03-01") {
		t.Errorf("merge --help has no example:\n%s", out)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cfg := minimalConfig(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"merge", "--bogus"}, "unknown flag"},
		{[]string{"merge", "--config", cfg}, "--date is required"},
		{[]string{"merge", "--config", cfg, "--date", "2024-02-30"}, "invalid date"},
		{[]string{"merge", "--config", cfg, "--date", "2024-03-01", "--table", "nope"}, "--table nope: no such table"},
		{[]string{"snapshot", "--config", cfg}, "--table is required"},
		{[]string{"checkdone", "--config", cfg, "extra-arg", "--date", "2024-03-01"}, "unknown command"},
		{[]string{"config", "check", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"config", "check", "--config", cfg, "--log-format", "xml"}, "--log-format"},
	}
	for _, c := range cases {
		code, _, stderr := invoke(t, nil, c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", c.args, code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr does not say %q:\n%s", c.args, c.want, stderr)
		}
	}
}

func TestBadConfigExit2NamesTheKey(t *testing.T) {
	cfg := writeConfig(t, `warehouse: ./wh
tables:
  - name: orders
    match: '('
    key: [id]
`)
	code, _, stderr := invoke(t, nil, "config", "check", "--config", cfg)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"binlake.yaml:4", "tables[0].match", "invalid regex"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
}

func TestSnapshotWithoutSourcesIsAConfigurationError(t *testing.T) {
	cfg := minimalConfig(t)
	for _, args := range [][]string{
		{"snapshot", "--table", "orders"},
		{"verify", "--table", "orders"},
	} {
		code, _, stderr := invoke(t, nil, append(args, "--config", cfg)...)
		if code != exitUsage || !strings.Contains(stderr, "has no sources:") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
	}
}

func TestConfigCheckExample(t *testing.T) {
	const secret = "s3cr3t-Passw0rd"
	vars := map[string]string{"RDS1_PASSWORD": secret, "RDS2_PASSWORD": secret, "KAFKA_PASSWORD": secret, "S3_SECRET_KEY": secret}
	summaryPath := filepath.Join(t.TempDir(), "summary.json")
	code, out, stderr := invoke(t, vars, "config", "check", "--config", "../../binlake.example.yaml", "--summary", summaryPath)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if strings.Contains(out, secret) || strings.Contains(stderr, secret) {
		t.Fatalf("a secret was printed:\n%s\n%s", out, stderr)
	}
	if !strings.Contains(out, "****") || !strings.Contains(out, "tables:") {
		t.Errorf("resolved config not printed with masks:\n%s", out)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 || !strings.Contains(stderr, "binlake config check: ok:") {
		t.Errorf("want a one-line summary on stderr, got %d lines:\n%s", lines, stderr)
	}
	var s summary
	b, err := os.ReadFile(summaryPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, b)
	}
	if s.Command != "binlake config check" || s.Status != "ok" || s.ExitCode != 0 || s.Started.IsZero() {
		t.Errorf("summary: %+v", s)
	}
}

func TestSummaryOnFailure(t *testing.T) {
	cfg := minimalConfig(t)
	summaryPath := filepath.Join(t.TempDir(), "summary.json")
	code, _, _ := invoke(t, nil, "merge", "--config", cfg, "--date", "nope", "--summary", summaryPath)
	if code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	var s summary
	b, err := os.ReadFile(summaryPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Status != "usage_error" || s.ExitCode != exitUsage || !strings.Contains(s.Error, "--date") {
		t.Errorf("summary: %+v", s)
	}
}

func TestConfigCheckConnectLocal(t *testing.T) {
	cfg := minimalConfig(t)
	code, _, stderr := invoke(t, nil, "config", "check", "--config", cfg, "--connect")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
}

// The real binary's exit status is what schedulers see.
func TestBinaryExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "binlake")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := minimalConfig(t)
	for args, want := range map[string]int{
		"--help":                                  exitOK,
		"config check --config " + cfg:            exitOK,
		"merge --config " + cfg:                   exitUsage,
		"snapshot --table orders --config " + cfg: exitUsage, // no sources:
		"snapshot --table orders --position start --from-files " + cfg + " --config " + cfg: exitFailed, // no schema to import into
		"no-such-command":                 exitUsage,
		"config check --config /nonexist": exitUsage,
	} {
		cmd := exec.Command(bin, strings.Fields(args)...)
		err := cmd.Run()
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("binlake %s: exit %d, want %d", args, got, want)
		}
	}
}

// config check --connect opens an S3 warehouse on a real S3 server, and a
// wrong secret fails loudly with exit 1 instead of looking like an empty
// warehouse.
func TestConfigCheckConnectS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	body := func(secret string) string {
		return "warehouse: s3://" + bucket + `/ods
s3:
  endpoint: ` + srv.Endpoint + `
  region: us-east-1
  path_style: true
  access_key_id: ` + srv.AccessKey + `
  secret_access_key: ` + secret + `
tables:
  - name: users
    match: '^app\.users$'
    key: [id]
`
	}
	code, _, stderr := invoke(t, nil, "config", "check", "--connect", "--config", writeConfig(t, body(srv.SecretKey)))
	if code != exitOK {
		t.Fatalf("good credentials: exit %d\n%s", code, stderr)
	}
	code, out, stderr := invoke(t, nil, "config", "check", "--connect", "--config", writeConfig(t, body("wrong-secret")))
	if code != exitFailed || !strings.Contains(stderr, "open warehouse s3://"+bucket+"/ods") {
		t.Fatalf("bad credentials: exit %d\n%s", code, stderr)
	}
	if strings.Contains(out+stderr, "wrong-secret") {
		t.Errorf("the secret was printed")
	}
}
