package cdc

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database

	"github.com/binlake/binlake/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixtureRoot holds the real messages of each producer (read-only).
const fixtureRoot = "../../shared/fixtures/cdc"

// maxwellDocsKey is the secret_key of Maxwell's encryption docs examples.
var maxwellDocsKey = []byte("aaaaaaaaaaaaaaaa")

var testTimestamp = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// fixture is one file of messages.
type fixture struct {
	format string
	name   string // file name
	values [][]byte
}

// loadFixtures reads the fixtures of one format: the shared real messages
// and the hand-written ones under testdata/<format>.
func loadFixtures(t testing.TB, format string) []fixture {
	t.Helper()
	var out []fixture
	for _, dir := range []string{filepath.Join(fixtureRoot, format), filepath.Join("testdata", format)} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json*"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fixture{format: format, name: filepath.Base(f), values: splitValues(t, filepath.Base(f), raw)})
		}
	}
	if len(out) == 0 && format != "rowjson" {
		t.Fatalf("no fixtures for %s under %s", format, fixtureRoot)
	}
	return out
}

var (
	elidedObject  = regexp.MustCompile(`\{\s*\.\.\.\s*\}`)
	elidedLine    = regexp.MustCompile(`(?m)^\s*\.\.\.\s*\n`)
	trailingComma = regexp.MustCompile(`,(\s*[}\]])`)
)

// splitValues returns the messages of a fixture file: one per line of a
// .jsonl file, the file itself for a .json file, and for the docs excerpts
// marked NOT-STRICT-JSON the values left after removing their elisions
// ("{ ... }", "..." lines) and trailing commas.
func splitValues(t testing.TB, name string, raw []byte) [][]byte {
	switch {
	case strings.HasSuffix(name, ".jsonl"):
		var out [][]byte
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				out = append(out, line)
			}
		}
		return out
	case strings.Contains(name, "NOT-STRICT-JSON"):
		clean := elidedObject.ReplaceAll(raw, []byte("{}"))
		clean = elidedLine.ReplaceAll(clean, nil)
		clean = trailingComma.ReplaceAll(clean, []byte("$1"))
		dec := json.NewDecoder(bytes.NewReader(clean))
		var out [][]byte
		for dec.More() {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: still not JSON after cleaning: %v", name, err)
			}
			out = append(out, v)
		}
		return out
	}
	return [][]byte{raw}
}

// goldenOptions are the options the golden tests decode each format with.
func goldenOptions(t testing.TB, format string) Options {
	o := Options{Format: format}
	switch format {
	case "canal":
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		o.SourceLocation = loc
	case "maxwell":
		o.AESKeys = [][]byte{maxwellDocsKey}
	case "rowjson":
		o.EventTimeField = "updated_at"
	}
	return o
}

var goldenTopics = map[string]string{
	"canal":    "binlog_shop",
	"debezium": "dbserver1.inventory.customers",
	"maxwell":  "maxwell",
	"rowjson":  "shop_db",
}

// goldenRecord is the Kafka record a fixture message arrives in.
func goldenRecord(t testing.TB, format string, i int, value []byte) *Record {
	rec := &Record{Topic: goldenTopics[format], Partition: 0, Offset: int64(100 + i), Value: value, Timestamp: testTimestamp}
	if format == "debezium" {
		key, err := os.ReadFile(filepath.Join(fixtureRoot, "debezium", "01-key-with-schema-docs.json"))
		if err != nil {
			t.Fatal(err)
		}
		rec.Key = key
	}
	return rec
}

func TestGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			for _, fx := range loadFixtures(t, format) {
				t.Run(fx.name, func(t *testing.T) {
					dec, err := New(goldenOptions(t, format))
					if err != nil {
						t.Fatal(err)
					}
					var b strings.Builder
					fmt.Fprintf(&b, "# %s/%s, decoded as %s; records at offsets 100…, Kafka timestamp %s\n",
						format, fx.name, format, testTimestamp.Format(time.RFC3339))
					for i, v := range fx.values {
						rec := goldenRecord(t, format, i, v)
						changes, skip, err := dec.Decode(nil, rec)
						fmt.Fprintf(&b, "\n## record %d (offset %d)\n", i, rec.Offset)
						renderResult(&b, changes, skip, err)
					}
					checkGolden(t, filepath.Join("testdata", "golden", format, strings.TrimSuffix(fx.name, filepath.Ext(fx.name))+".golden"), b.String())
				})
			}
		})
	}
}

// TestGoldenCrossFormat decodes every fixture with every other format's
// decoder: all must refuse it (or, for formats that cannot tell, say what
// they made of it), and the golden file records how.
func TestGoldenCrossFormat(t *testing.T) {
	var b strings.Builder
	b.WriteString("# every fixture decoded by the other formats' decoders\n")
	for _, own := range Formats {
		for _, fx := range loadFixtures(t, own) {
			for _, format := range Formats {
				if format == own {
					continue
				}
				dec, err := New(goldenOptions(t, format))
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range fx.values {
					changes, skip, err := dec.Decode(nil, goldenRecord(t, format, i, v))
					fmt.Fprintf(&b, "%s/%s[%d] as %s: ", own, fx.name, i, format)
					switch {
					case err != nil:
						fmt.Fprintf(&b, "error: %v\n", err)
					case skip != NotSkipped:
						fmt.Fprintf(&b, "skip %s\n", skip)
					default:
						fmt.Fprintf(&b, "%d change(s)\n", len(changes))
					}
				}
			}
		}
	}
	checkGolden(t, filepath.Join("testdata", "golden", "cross-format.golden"), b.String())
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cdc -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the decoded output (go test ./cdc -run '%s' -update rewrites it); got:\n%s", path, t.Name(), got)
	}
}

// renderResult writes the outcome of one Decode in the golden format.
func renderResult(b *strings.Builder, changes []Change, skip Skip, err error) {
	switch {
	case err != nil:
		fmt.Fprintf(b, "error: %v\n", err)
		return
	case skip != NotSkipped:
		fmt.Fprintf(b, "skip: %s\n", skip)
	}
	for _, c := range changes {
		b.WriteString(renderChange(c))
	}
}

// renderChange is a stable, readable text form of a Change.
func renderChange(c Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.%s\n", c.Op, c.Database, c.Table)
	fmt.Fprintf(&b, "  time: %s\n", c.EventTime.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "  pos:  file %d, offset %d, row %d\n", c.Pos.File, c.Pos.Offset, c.Pos.Row)
	if c.Key != nil {
		fmt.Fprintf(&b, "  key:  %s\n", strings.Join(c.Key, ", "))
	}
	if c.SQL != "" {
		fmt.Fprintf(&b, "  sql:  %s\n", c.SQL)
	}
	renderColumns(&b, "columns", c.Columns)
	renderColumns(&b, "before", c.Before)
	return b.String()
}

func renderColumns(b *strings.Builder, title string, cols []Column) {
	if cols == nil {
		return
	}
	fmt.Fprintf(b, "  %s:\n", title)
	for _, col := range cols {
		fmt.Fprintf(b, "    %s", col.Name)
		if col.Type.Kind != schema.Unknown {
			fmt.Fprintf(b, " %s", col.Type)
		}
		fmt.Fprintf(b, " = %s %s", col.Value.Kind, col.Value)
		if col.ZeroDate {
			b.WriteString(" (zero date)")
		}
		b.WriteByte('\n')
	}
}
