package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

var update = flag.Bool("update", false, "rewrite the .golden files under testdata")

// testEnv is the environment the testdata files are parsed with. Secret
// values are distinctive so that tests can prove they never leak.
var testEnv = map[string]string{
	"RDS1_PASSWORD":  "Pa55#w:rd@x y$",
	"KAFKA_PASSWORD": "kafka: #Secret-77",
	"S3_SECRET":      "s3-Secret-Key-88",
	"S3_KEY_ID":      "AKIATESTKEY",
	"S3_PATH_STYLE":  "true",
	"BUCKET":         "lake",
	"KAFKA_HOST":     "10.0.0.9",
	"DLQ_RATIO":      "0.05",
	"TOMBSTONE_DAYS": "9",
}

// secrets are the values that must never appear in Redacted output.
var secrets = []string{
	testEnv["RDS1_PASSWORD"], testEnv["KAFKA_PASSWORD"], testEnv["S3_SECRET"],
	"Inline-S3-Secret-123", "Inline-Dsn-Secret-456",
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test ./config -update and review the diff)\n--- got ---\n%s--- want ---\n%s", golden, got, want)
	}
}

func testdataFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no testdata/%s/*.yaml files", dir)
	}
	return files
}

// TestErrorGoldens parses each testdata/errors/NAME.yaml, which must fail,
// and compares the full error text with NAME.golden.
func TestErrorGoldens(t *testing.T) {
	for _, file := range testdataFiles(t, "errors") {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(filepath.Base(file), data, mapEnv(testEnv))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error; config: %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config along with the error")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("secret %q appears in the error", s)
				}
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

// TestValidGoldens parses each testdata/valid/NAME.yaml and compares its
// Redacted output with NAME.golden; it checks that no secret leaks into the
// output and that the output loads back to the same configuration.
func TestValidGoldens(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range testdataFiles(t, "valid") {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(filepath.Base(file), data, mapEnv(testEnv))
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecrets(t, c, string(out))

			// The output is a configuration in its own right.
			c2, err := Parse("redacted.yaml", out, nil)
			if err != nil {
				t.Fatalf("Redacted output does not load: %v\n%s", err, out)
			}
			out2, err := c2.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			if string(out2) != string(out) {
				t.Errorf("Redacted output changes when loaded again:\n--- first ---\n%s--- second ---\n%s", out, out2)
			}

			// Machine-dependent defaults get placeholders in the golden file.
			got := strings.ReplaceAll(string(out), "spill_dir: "+os.TempDir()+"\n", "spill_dir: <os.TempDir>\n")
			got = strings.ReplaceAll(got, "warehouse: "+cwd+"/", "warehouse: <cwd>/")
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

// assertNoSecrets fails if any secret of c, or any known test secret, is in out.
func assertNoSecrets(t *testing.T, c *Config, out string) {
	t.Helper()
	all := append([]string(nil), secrets...)
	if c.S3 != nil {
		all = append(all, c.S3.SecretAccessKey)
	}
	if c.Kafka != nil && c.Kafka.SASL != nil {
		all = append(all, c.Kafka.SASL.Password)
	}
	for name, s := range c.Sources {
		cfg, err := mysql.ParseDSN(s.DSN)
		if err != nil {
			t.Fatalf("source %s: %v", name, err)
		}
		all = append(all, cfg.Passwd)
	}
	for _, s := range all {
		if s != "" && s != mask && strings.Contains(out, s) {
			t.Errorf("secret %q appears in Redacted output:\n%s", s, out)
		}
	}
}

// TestExample loads binlake.example.yaml with only RDS1_PASSWORD set, as the
// comment at its top promises.
func TestExample(t *testing.T) {
	const password = "example-Secret#1:x"
	c, err := Load("../binlake.example.yaml", mapEnv(map[string]string{"RDS1_PASSWORD": password}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka == nil || c.S3 == nil || len(c.Sources) == 0 || len(c.Tables) < 2 {
		t.Fatalf("example does not use every section: %+v", c)
	}
	dsn, err := mysql.ParseDSN(c.Sources["rds1"].DSN)
	if err != nil || dsn.Passwd != password {
		t.Errorf("sources.rds1.dsn: password %q, err %v; want %q", dsn.Passwd, err, password)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), password) {
		t.Errorf("password in Redacted output:\n%s", out)
	}
	if _, err := Load("../binlake.example.yaml", nil); err == nil || !strings.Contains(err.Error(), "environment variable RDS1_PASSWORD is not set") {
		t.Errorf("without RDS1_PASSWORD: err = %v, want it to name the variable", err)
	}
}
