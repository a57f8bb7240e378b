package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a loaded, validated configuration with every default filled in
// and every ${VAR} expanded. Parse and Load return it; nothing else should
// build one except tests.
type Config struct {
	// Warehouse is where binlake reads and writes (warehouse:).
	Warehouse Warehouse
	// Location is the zone dt= and hr= partitions are computed in
	// (timezone:, default UTC).
	Location *time.Location
	// S3 configures the S3 client; nil when the file has no s3: section.
	S3 *S3
	// Kafka configures ingest; nil when the file has no kafka: section.
	Kafka *Kafka
	// Ingest tunes binlake ingest.
	Ingest Ingest
	// Merge tunes binlake merge.
	Merge Merge
	// Sources are the MySQL instances snapshot reads, by name.
	Sources map[string]Source
	// Tables are the table rules in file order; names are unique.
	Tables []Table
}

// Table returns the table rule named name, or nil.
func (c *Config) Table(name string) *Table {
	for i := range c.Tables {
		if c.Tables[i].Name == name {
			return &c.Tables[i]
		}
	}
	return nil
}

// Warehouse is the parsed warehouse location.
type Warehouse struct {
	// Raw is the value as written (after ${VAR} expansion), or the default
	// "./warehouse".
	Raw string
	// Scheme is "file" or "s3".
	Scheme string
	// Path is the absolute, cleaned local directory (Scheme "file"). A
	// relative path is taken relative to the current directory when the
	// configuration is parsed.
	Path string
	// Bucket is the bucket name (Scheme "s3").
	Bucket string
	// Prefix is the key prefix inside the bucket without leading or trailing
	// slashes, "" for the bucket root (Scheme "s3").
	Prefix string
}

// String returns the warehouse as a URL: file:///abs/path or s3://bucket/prefix.
func (w Warehouse) String() string {
	if w.Scheme == "s3" {
		if w.Prefix == "" {
			return "s3://" + w.Bucket
		}
		return "s3://" + w.Bucket + "/" + w.Prefix
	}
	return "file://" + w.Path
}

// S3 configures the S3 client for s3:// warehouses and S3-compatible stores.
type S3 struct {
	// Endpoint is an http(s) URL; "" means AWS.
	Endpoint string
	// Region is the signing region; "" means the AWS SDK's default chain.
	Region string
	// PathStyle selects path-style addressing (bucket in the path).
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials, both set or
	// both empty; empty means the standard AWS credential chain.
	AccessKeyID     string
	SecretAccessKey string
}

// Format is the encoding of the change messages in Kafka.
type Format string

// Input formats (DESIGN.md §5).
const (
	FormatCanal    Format = "canal"
	FormatDebezium Format = "debezium"
	FormatMaxwell  Format = "maxwell"
	FormatRowJSON  Format = "rowjson"
)

var formats = []Format{FormatCanal, FormatDebezium, FormatMaxwell, FormatRowJSON}

// Start is where ingest starts reading a partition the warehouse has no
// offsets for.
type Start string

// Start positions.
const (
	StartEarliest Start = "earliest"
	StartLatest   Start = "latest"
)

// Kafka configures where ingest reads change messages.
type Kafka struct {
	// Brokers are seed brokers as host:port; at least one.
	Brokers []string
	// Topics lists topics by name; exactly one of Topics and TopicPattern
	// is set.
	Topics []string
	// TopicPattern selects topics by regex.
	TopicPattern *regexp.Regexp
	// Format is the message format.
	Format Format
	// SourceLocation is the zone the producer wrote zone-less timestamps in
	// (source_timezone:, default UTC).
	SourceLocation *time.Location
	// Group is an informational consumer group name; offsets live in the
	// warehouse.
	Group string
	// Partitions, when not nil, restricts this process to the listed
	// partitions of each topic; topics not listed are not read at all.
	Partitions map[string][]int32
	// Start is where a partition without committed offsets starts.
	Start Start
	// TLS configures TLS to the brokers.
	TLS TLS
	// SASL configures authentication; nil means none.
	SASL *SASL
	// Encryption says where the AES-GCM envelope key comes from; nil means
	// messages are not encrypted.
	Encryption *Encryption
	// EventTimeField is the rowjson field holding the event time; "" means
	// the Kafka record timestamp. Only set for format rowjson.
	EventTimeField string
}

// TLS configures a TLS client.
type TLS struct {
	// Enabled turns TLS on; the other fields need it.
	Enabled bool
	// CAFile is a PEM bundle of roots; "" means the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key, both set
	// or both empty.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify skips server certificate checks.
	InsecureSkipVerify bool
}

// SASLMechanism is a Kafka SASL mechanism.
type SASLMechanism string

// SASL mechanisms.
const (
	SASLPlain       SASLMechanism = "plain"
	SASLScramSHA256 SASLMechanism = "scram-sha-256"
	SASLScramSHA512 SASLMechanism = "scram-sha-512"
)

var saslMechanisms = []SASLMechanism{SASLPlain, SASLScramSHA256, SASLScramSHA512}

// SASL configures Kafka authentication.
type SASL struct {
	// Mechanism is one of the SASL constants; the file may spell it in
	// upper case, as Kafka does.
	Mechanism SASLMechanism
	// Username is the SASL user.
	Username string
	// Password is a secret; Redacted masks it.
	Password string
}

// Encryption says where the key for AES-GCM envelopes comes from. Exactly
// one field is set. The key itself is never part of the configuration.
type Encryption struct {
	// KeyEnv names an environment variable holding the key.
	KeyEnv string
	// KeyFile is a file holding the key.
	KeyFile string
}

// Ingest tunes binlake ingest.
type Ingest struct {
	// Grace is how long past the end of an hour the stream must be before
	// the hour is ready (default 15m).
	Grace time.Duration
	// MaxDLQRatio is the share of a run's records that may go to the DLQ
	// before the run fails, in [0,1] (default 0.01).
	MaxDLQRatio float64
	// MemoryBudget bounds buffered rows, in bytes (default 512MiB).
	MemoryBudget int64
	// MaxFileSize is the size at which a binlog file is cut, in bytes
	// (default 256MiB).
	MaxFileSize int64
}

// Merge tunes binlake merge.
type Merge struct {
	// MemoryBudget bounds memory before merge spills, in bytes (default 1GiB).
	MemoryBudget int64
	// FileSize is the target size of snapshot data files, in bytes
	// (default 128MiB).
	FileSize int64
	// TombstoneDays is how many days a delete's tombstone is kept, >= 1
	// (default 7).
	TombstoneDays int
	// RetentionDays is how many snapshot days are kept; 0 keeps all (the
	// default).
	RetentionDays int
	// SpillDir is the local directory for spill files (default os.TempDir()).
	SpillDir string
	// IntegerEncoding is how snapshot files store integer, date and
	// timestamp columns (default IntegerPlain).
	IntegerEncoding IntegerEncoding
}

// IntegerEncoding is the Parquet encoding of the INT32 and INT64 columns
// of snapshot files.
type IntegerEncoding string

// Integer encodings.
const (
	// IntegerPlain: PLAIN, which every Parquet reader reads (the default);
	// tinyint, smallint and year columns RLE_DICTIONARY, which they read
	// too.
	IntegerPlain IntegerEncoding = "plain"
	// IntegerDelta: DELTA_BINARY_PACKED, smaller files and cheaper merges
	// (neighbouring keys, times and versions differ by little), read by
	// DuckDB, Trino, Hive and Spark 3.3 or later; older Spark reads it only
	// with its vectorized Parquet reader turned off.
	IntegerDelta IntegerEncoding = "delta"
)

// Source is a MySQL instance.
type Source struct {
	// DSN is a go-sql-driver/mysql data source name; its password is a
	// secret that Redacted masks.
	DSN string
	// TLS requests TLS to the server.
	TLS bool
}

// Bootstrap says how a table's first snapshot comes about.
type Bootstrap string

// Bootstrap modes.
const (
	// BootstrapSnapshot: merge needs a snapshot taken by binlake snapshot
	// (or imported) before it can apply changes (the default).
	BootstrapSnapshot Bootstrap = "snapshot"
	// BootstrapEmpty: the table started empty, so merge starts from nothing.
	BootstrapEmpty Bootstrap = "empty"
)

// Table is a table rule: it maps physical tables to one logical table.
type Table struct {
	// Name is the logical table name, a path segment in the warehouse.
	Name string
	// Match selects physical tables by "<database>.<table>". It is used as
	// written: without ^ and $ it matches anywhere in the name.
	Match *regexp.Regexp
	// Key is the primary key, as final (output) column names.
	Key []string
	// KeyIncludesSource adds _source_db and _source_table to the key
	// (default true).
	KeyIncludesSource bool
	// Sources are the names of the sources holding the table's shards;
	// default every source, in name order.
	Sources []string
	// Bootstrap says how the first snapshot comes about.
	Bootstrap Bootstrap
	// EventTimeField is the rowjson event time field for this table: its
	// own event_time_field or else kafka.event_time_field.
	EventTimeField string
	// Columns are the column rules.
	Columns ColumnRules
}

// Load reads and parses the configuration file at path. env looks up
// environment variables for ${VAR} (os.LookupEnv in production); nil means
// no variable is set. Errors name path, the line and the key path.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, env)
}

// Parse parses configuration data. name is used in error messages (it is
// usually the file's path). env is as for Load. Parse returns every problem
// it finds, as *Error values joined with errors.Join and sorted by line.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(name, env)
	var raw rawConfig
	d.decode(root, reflect.ValueOf(&raw).Elem(), "")
	c := d.build(&raw)
	if err := joinErrors(d.errs); err != nil {
		return nil, err
	}
	return c, nil
}

// parseYAML parses data into the node of its single document's root.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Line: 1, Msg: "the file is empty; a configuration needs at least a tables: list"}
		}
		return nil, syntaxError(name, data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &Error{File: name, Line: next.Line, Msg: "a second YAML document (after ---); binlake reads one document per file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if isNull(root) {
		return nil, &Error{File: name, Line: 1, Msg: "the file is empty; a configuration needs at least a tables: list"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: fmt.Sprintf("expected a mapping of keys (warehouse:, kafka:, tables:, …) at the top, got %s", describe(root))}
	}
	return root, nil
}

var (
	yamlLineError     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// yamlParserErrors are the problems yaml's parser (as opposed to its
// scanner) reports. yaml.v3 prints their line 0-based, so they are one line
// early; syntaxError corrects that.
var yamlParserErrors = []string{
	"did not find expected",
	"found duplicate %",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError turns a yaml parse error into an *Error at the right line, with
// a hint for the mistakes people make most.
func syntaxError(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	for _, p := range yamlParserErrors {
		if strings.HasPrefix(msg, p) {
			line++
			break
		}
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		line = lineContaining(data, "*"+m[1])
	}
	switch {
	case line > 0 && tabIndented(data, line):
		msg += fmt.Sprintf(" (line %d is indented with a tab; YAML indentation must use spaces)", line)
	case strings.Contains(msg, "unknown escape character"):
		msg += " (inside double quotes a backslash starts an escape; put regexes in single quotes)"
	case strings.Contains(msg, "expected ',' or ']'"):
		msg += " (a [ list is not closed)"
	case strings.Contains(msg, "expected ',' or '}'"):
		msg += " (a { mapping is not closed)"
	case strings.Contains(msg, "unexpected end of stream"):
		msg += " (a quoted value is not closed)"
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += " (quote a value that contains \": \", or check the indentation)"
	case strings.Contains(msg, "did not find expected key"), strings.Contains(msg, "expected '-' indicator"):
		msg += " (check the indentation of this line and the ones before it)"
	case strings.Contains(msg, "cannot start any token"):
		msg += " (quote values that start with @, ` or %)"
	}
	return &Error{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

// lineContaining returns the 1-based number of the first line of data that
// contains s, or 0.
func lineContaining(data []byte, s string) int {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte(s)) {
			return i + 1
		}
	}
	return 0
}

// tabIndented reports whether the 1-based line of data (or the line before,
// where yaml sometimes reports a tab) starts with a tab after any spaces.
func tabIndented(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	for _, l := range []int{line, line - 1} {
		if l >= 1 && l <= len(lines) && bytes.HasPrefix(bytes.TrimLeft(lines[l-1], " "), []byte("\t")) {
			return true
		}
	}
	return false
}
