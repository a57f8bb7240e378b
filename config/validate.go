package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Defaults.
const (
	defaultWarehouse        = "./warehouse"
	defaultGrace            = 15 * time.Minute
	defaultMaxDLQRatio      = 0.01
	defaultIngestMemory     = 512 * mib
	defaultMaxFileSize      = 256 * mib
	defaultMergeMemory      = 1 * gib
	defaultSnapshotFileSize = 128 * mib
	defaultTombstoneDays    = 7
)

// The provenance columns every table has.
const (
	sourceDB    = "_source_db"
	sourceTable = "_source_table"
)

var tableName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// build validates raw and turns it into a Config, recording every problem
// in d.errs. The Config is only meaningful when there are none.
func (d *decoder) build(raw *rawConfig) *Config {
	c := &Config{
		Warehouse: d.warehouse(raw.Warehouse),
		Location:  d.location("timezone", raw.Timezone),
		Ingest:    d.ingest(&raw.Ingest),
		Merge:     d.merge(&raw.Merge),
		Sources:   d.sources(raw.Sources),
	}
	if raw.S3 != nil {
		c.S3 = d.s3(raw.S3)
	}
	if raw.Kafka != nil {
		c.Kafka = d.kafka(raw.Kafka)
	}
	c.Tables = d.tables(raw.Tables, c)
	return c
}

func (d *decoder) warehouse(raw string) Warehouse {
	if raw == "" {
		raw = defaultWarehouse
	}
	w, err := parseWarehouse(raw)
	if err != nil {
		d.fail("warehouse", "%v", err)
	}
	return w
}

var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// parseWarehouse parses s3://bucket/prefix, file:///abs/path or a local path.
func parseWarehouse(raw string) (Warehouse, error) {
	w := Warehouse{Raw: raw}
	m := urlScheme.FindStringSubmatch(raw)
	if m == nil {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return w, fmt.Errorf("cannot make %q absolute: %w", raw, err)
		}
		w.Scheme, w.Path = "file", abs
		return w, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return w, fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	switch scheme := strings.ToLower(m[1]); scheme {
	case "s3":
		if u.Host == "" {
			return w, fmt.Errorf("%q has no bucket (use s3://bucket/prefix)", raw)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return w, fmt.Errorf("%q: an s3:// warehouse takes no ?query or #fragment", raw)
		}
		w.Scheme, w.Bucket, w.Prefix = "s3", u.Host, strings.Trim(u.Path, "/")
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return w, fmt.Errorf("%q names host %q; a file:// URL needs an absolute path, as in file:///data/lake", raw, u.Host)
		}
		if u.Path == "" || !filepath.IsAbs(u.Path) {
			return w, fmt.Errorf("%q has no absolute path (use file:///abs/path, or a plain relative path)", raw)
		}
		w.Scheme, w.Path = "file", filepath.Clean(u.Path)
	case "s3a", "s3n":
		return w, fmt.Errorf("unsupported scheme %q in %q: write s3:// instead", scheme, raw)
	default:
		return w, fmt.Errorf("unsupported scheme %q in %q (use s3://bucket/prefix, file:///abs/path or a local path)", scheme, raw)
	}
	return w, nil
}

func (d *decoder) location(path, name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if name == "Local" {
		d.fail(path, "Local depends on the machine binlake runs on; name an IANA zone such as Asia/Shanghai or UTC")
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		d.fail(path, "unknown time zone %q; use an IANA name such as Asia/Shanghai or UTC", name)
		return time.UTC
	}
	return loc
}

func (d *decoder) size(path, raw string, def int64) int64 {
	if raw == "" {
		return def
	}
	n, err := ParseSize(raw)
	if err != nil {
		d.fail(path, "%v", err)
		return def
	}
	if n == 0 {
		d.fail(path, "must be greater than 0")
	}
	return n
}

func (d *decoder) ingest(raw *rawIngest) Ingest {
	in := Ingest{
		Grace:        defaultGrace,
		MaxDLQRatio:  defaultMaxDLQRatio,
		MemoryBudget: d.size("ingest.memory_budget", raw.MemoryBudget, defaultIngestMemory),
		MaxFileSize:  d.size("ingest.max_file_size", raw.MaxFileSize, defaultMaxFileSize),
	}
	if raw.Grace != "" {
		g, err := time.ParseDuration(raw.Grace)
		switch {
		case err != nil:
			d.fail("ingest.grace", "invalid duration %q: use a Go duration such as 15m, 90s or 1h30m", raw.Grace)
		case g < 0:
			d.fail("ingest.grace", "must not be negative, got %s", raw.Grace)
		default:
			in.Grace = g
		}
	}
	if raw.MaxDLQRatio != nil {
		in.MaxDLQRatio = *raw.MaxDLQRatio
		if !(in.MaxDLQRatio >= 0 && in.MaxDLQRatio <= 1) {
			d.fail("ingest.max_dlq_ratio", "must be between 0 and 1 (a share such as 0.01 for 1%%), got %v", in.MaxDLQRatio)
		}
	}
	return in
}

func (d *decoder) merge(raw *rawMerge) Merge {
	m := Merge{
		MemoryBudget:  d.size("merge.memory_budget", raw.MemoryBudget, defaultMergeMemory),
		FileSize:      d.size("merge.file_size", raw.FileSize, defaultSnapshotFileSize),
		TombstoneDays: defaultTombstoneDays,
		SpillDir:      raw.SpillDir,
	}
	if raw.TombstoneDays != nil {
		m.TombstoneDays = *raw.TombstoneDays
		if m.TombstoneDays < 1 {
			d.fail("merge.tombstone_days", "must be at least 1, got %d", m.TombstoneDays)
		}
	}
	if raw.RetentionDays != nil {
		m.RetentionDays = *raw.RetentionDays
		if m.RetentionDays < 0 {
			d.fail("merge.retention_days", "must not be negative (0 keeps every day), got %d", m.RetentionDays)
		}
	}
	if m.SpillDir == "" {
		m.SpillDir = os.TempDir()
	}
	switch m.IntegerEncoding = IntegerEncoding(raw.IntegerEncoding); m.IntegerEncoding {
	case "":
		m.IntegerEncoding = IntegerPlain
	case IntegerPlain, IntegerDelta:
	default:
		d.fail("merge.integer_encoding", "unknown encoding %q (one of plain, delta)", raw.IntegerEncoding)
	}
	return m
}

func (d *decoder) s3(raw *rawS3) *S3 {
	s := &S3{
		Endpoint:        raw.Endpoint,
		Region:          raw.Region,
		PathStyle:       raw.PathStyle,
		AccessKeyID:     raw.AccessKeyID,
		SecretAccessKey: raw.SecretAccessKey,
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.fail("s3.endpoint", "%q is not an http:// or https:// URL", s.Endpoint)
		}
	}
	switch {
	case s.AccessKeyID != "" && s.SecretAccessKey == "":
		d.missing("s3.secret_access_key", "required with access_key_id (or remove both to use the AWS credential chain)")
	case s.AccessKeyID == "" && s.SecretAccessKey != "":
		d.missing("s3.access_key_id", "required with secret_access_key (or remove both to use the AWS credential chain)")
	}
	return s
}

func (d *decoder) kafka(raw *rawKafka) *Kafka {
	k := &Kafka{
		Brokers:        raw.Brokers,
		Topics:         raw.Topics,
		Format:         Format(raw.Format),
		SourceLocation: d.location("kafka.source_timezone", raw.SourceTimezone),
		Group:          raw.Group,
		Partitions:     raw.Partitions,
		Start:          Start(raw.Start),
		EventTimeField: raw.EventTimeField,
		TLS: TLS{
			Enabled:            raw.TLS.Enabled,
			CAFile:             raw.TLS.CAFile,
			CertFile:           raw.TLS.CertFile,
			KeyFile:            raw.TLS.KeyFile,
			InsecureSkipVerify: raw.TLS.InsecureSkipVerify,
		},
	}
	if len(k.Brokers) == 0 {
		d.missing("kafka.brokers", "required: list at least one broker as host:port")
	}
	for i, b := range k.Brokers {
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			d.fail(fmt.Sprintf("kafka.brokers[%d]", i), "%q is not host:port", b)
		}
	}

	switch {
	case raw.Topics != nil && raw.TopicPattern != "":
		d.fail("kafka.topic_pattern", "set either topics or topic_pattern, not both")
	case raw.Topics == nil && raw.TopicPattern == "":
		if !d.failed["kafka.topics"] {
			d.fail("kafka", "set topics (a list of names) or topic_pattern (a regex)")
		}
	case raw.Topics != nil && len(raw.Topics) == 0:
		d.fail("kafka.topics", "empty list: name at least one topic, or use topic_pattern")
	}
	d.uniqueNames("kafka.topics", raw.Topics, "topic")
	if raw.TopicPattern != "" {
		k.TopicPattern = d.regex("kafka.topic_pattern", raw.TopicPattern)
	}

	switch {
	case k.Format == "":
		d.missing("kafka.format", "required: one of %s", listOf(formats))
	case !slices.Contains(formats, k.Format):
		d.fail("kafka.format", "unknown format %q (one of %s)", k.Format, listOf(formats))
	}

	for _, topic := range slices.Sorted(maps.Keys(k.Partitions)) {
		path := joinKey("kafka.partitions", topic)
		switch {
		case k.Topics != nil && !slices.Contains(k.Topics, topic):
			d.fail(path, "topic %q is not in kafka.topics", topic)
		case k.TopicPattern != nil && !k.TopicPattern.MatchString(topic):
			d.fail(path, "topic %q does not match kafka.topic_pattern", topic)
		}
		ps := k.Partitions[topic]
		if ps != nil && len(ps) == 0 && !d.failed[path] {
			d.fail(path, "empty list: name the partitions this process owns, or remove the topic")
		}
		seen := map[int32]bool{}
		for i, p := range ps {
			at := fmt.Sprintf("%s[%d]", path, i)
			if p < 0 {
				d.fail(at, "partition must not be negative, got %d", p)
			}
			if seen[p] {
				d.fail(at, "partition %d is listed twice", p)
			}
			seen[p] = true
		}
	}

	switch k.Start {
	case "":
		k.Start = StartEarliest
	case StartEarliest, StartLatest:
	default:
		d.fail("kafka.start", "unknown start %q (one of earliest, latest)", raw.Start)
	}

	d.tls(&k.TLS)
	if raw.SASL != nil {
		k.SASL = d.sasl(raw.SASL)
	}
	if raw.Encryption != nil {
		k.Encryption = d.encryption(raw.Encryption)
	}
	if k.EventTimeField != "" && k.Format != FormatRowJSON {
		d.fail("kafka.event_time_field", "only applies to format rowjson (the other formats carry their own event time)")
	}
	return k
}

func (d *decoder) tls(t *TLS) {
	if !t.Enabled {
		for _, f := range []struct {
			key string
			set bool
		}{{"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""}, {"key_file", t.KeyFile != ""}, {"insecure_skip_verify", t.InsecureSkipVerify}} {
			if f.set {
				d.fail("kafka.tls."+f.key, "is set but kafka.tls.enabled is false; add enabled: true")
			}
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		d.missing("kafka.tls.key_file", "required with cert_file")
	case t.CertFile == "" && t.KeyFile != "":
		d.missing("kafka.tls.cert_file", "required with key_file")
	}
}

func (d *decoder) sasl(raw *rawSASL) *SASL {
	// Kafka's own documentation spells mechanisms in upper case.
	s := &SASL{Mechanism: SASLMechanism(strings.ToLower(raw.Mechanism)), Username: raw.Username, Password: raw.Password}
	switch {
	case s.Mechanism == "":
		d.missing("kafka.sasl.mechanism", "required: one of %s", listOf(saslMechanisms))
	case !slices.Contains(saslMechanisms, s.Mechanism):
		d.fail("kafka.sasl.mechanism", "unknown mechanism %q (one of %s)", raw.Mechanism, listOf(saslMechanisms))
	}
	if s.Username == "" {
		d.missing("kafka.sasl.username", "required")
	}
	if s.Password == "" {
		d.missing("kafka.sasl.password", "required (write it as ${VAR} to keep it out of the file)")
	}
	return s
}

func (d *decoder) encryption(raw *rawEncryption) *Encryption {
	e := &Encryption{KeyEnv: raw.KeyEnv, KeyFile: raw.KeyFile}
	switch {
	case e.KeyEnv != "" && e.KeyFile != "":
		d.fail("kafka.encryption.key_file", "set either key_env or key_file, not both")
	case e.KeyEnv == "" && e.KeyFile == "":
		d.missing("kafka.encryption", "set key_env (the name of a variable holding the key) or key_file")
	case e.KeyEnv != "" && !validEnvName(e.KeyEnv):
		d.fail("kafka.encryption.key_env", "%q is not an environment variable name; give the name (BINLAKE_AES_KEY), never the key", e.KeyEnv)
	}
	return e
}

func (d *decoder) sources(raw map[string]*rawSource) map[string]Source {
	if raw == nil {
		return nil
	}
	out := make(map[string]Source, len(raw))
	for name, s := range raw {
		path := joinKey("sources", name)
		if s == nil {
			s = &rawSource{}
		}
		out[name] = Source{DSN: s.DSN, TLS: s.TLS}
		if s.DSN == "" {
			d.missing(path+".dsn", "required: a go-sql-driver DSN such as user:${PASSWORD}@tcp(host:3306)/")
			continue
		}
		if _, err := mysql.ParseDSN(s.DSN); err != nil {
			d.fail(path+".dsn", "%v (expected user:password@tcp(host:3306)/)", err)
		}
	}
	return out
}

func (d *decoder) tables(raw []*rawTable, c *Config) []Table {
	if len(raw) == 0 && !d.failed["tables"] {
		d.fail("tables", "required: list at least one table rule (name, match, key)")
	}
	allSources := slices.Sorted(maps.Keys(c.Sources))
	kafkaEventTime := ""
	if c.Kafka != nil {
		kafkaEventTime = c.Kafka.EventTimeField
	}
	byName := map[string]string{}
	tables := make([]Table, 0, len(raw))
	for i, r := range raw {
		path := fmt.Sprintf("tables[%d]", i)
		if r == nil {
			d.fail(path, "empty table rule: give at least name, match and key")
			continue
		}
		t := Table{
			Name:              r.Name,
			Key:               r.Key,
			KeyIncludesSource: true,
			Sources:           r.Sources,
			Bootstrap:         Bootstrap(r.Bootstrap),
			EventTimeField:    r.EventTimeField,
		}
		switch {
		case t.Name == "":
			d.missing(path+".name", "required: the logical table name")
		case !tableName.MatchString(t.Name):
			d.fail(path+".name", "%q is not a valid table name: use lower-case letters, digits and _, starting with a letter or digit (it becomes a directory name)", t.Name)
		case byName[t.Name] != "":
			first := byName[t.Name]
			d.fail(path+".name", "duplicate table name %q (already used by %s on line %d)", t.Name, first, d.line(first))
		default:
			byName[t.Name] = path
		}

		if r.Match == "" {
			d.missing(path+".match", `required: a regex on "<database>.<table>", such as '^shop_\d+\.orders_\d+$'`)
		} else {
			t.Match = d.regex(path+".match", r.Match)
		}

		if len(t.Key) == 0 {
			d.missing(path+".key", "required: list the primary key columns, such as [id]")
		}
		if r.KeyIncludesSource != nil {
			t.KeyIncludesSource = *r.KeyIncludesSource
		}
		for j, k := range t.Key {
			at := fmt.Sprintf("%s.key[%d]", path, j)
			switch {
			case k == "":
				d.fail(at, "empty column name")
			case slices.Index(t.Key, k) < j:
				d.fail(at, "column %q is listed twice", k)
			case t.KeyIncludesSource && (k == sourceDB || k == sourceTable):
				d.fail(at, "%s is already part of the key because key_includes_source is true; remove it here", k)
			}
		}

		switch {
		case t.Sources == nil:
			t.Sources = allSources
		case len(t.Sources) == 0:
			d.fail(path+".sources", "empty list: name the sources holding this table, or remove the key to use every source")
		}
		for j, s := range r.Sources {
			at := fmt.Sprintf("%s.sources[%d]", path, j)
			switch {
			case slices.Index(r.Sources, s) < j:
				d.fail(at, "source %q is listed twice", s)
			case len(allSources) == 0:
				d.fail(at, "unknown source %q (no sources are defined; add it under sources:)", s)
			case !slices.Contains(allSources, s):
				d.fail(at, "unknown source %q (defined: %s)", s, strings.Join(allSources, ", "))
			}
		}

		switch t.Bootstrap {
		case "":
			t.Bootstrap = BootstrapSnapshot
		case BootstrapSnapshot, BootstrapEmpty:
		default:
			d.fail(path+".bootstrap", "unknown bootstrap %q (one of snapshot, empty)", r.Bootstrap)
		}

		if t.EventTimeField != "" && c.Kafka != nil && c.Kafka.Format != FormatRowJSON && c.Kafka.Format != "" {
			d.fail(path+".event_time_field", "only applies to format rowjson (kafka.format is %s)", c.Kafka.Format)
		}
		if t.EventTimeField == "" {
			t.EventTimeField = kafkaEventTime
		}

		t.Columns = d.columns(path+".columns", &r.Columns)
		for j, k := range t.Key {
			if k != "" && containsFold(t.Columns.Exclude, k) {
				d.fail(fmt.Sprintf("%s.key[%d]", path, j), "key column %q is dropped by columns.exclude", k)
			}
		}
		tables = append(tables, t)
	}
	return tables
}

func (d *decoder) columns(path string, raw *rawColumns) ColumnRules {
	c := ColumnRules{Case: Case(raw.Case), Rename: raw.Rename, Exclude: raw.Exclude, Boolean: raw.Boolean}
	switch c.Case {
	case "":
		c.Case = CaseKeep
	case CaseKeep, CaseSnake:
	default:
		d.fail(path+".case", "unknown case %q (one of keep, snake)", raw.Case)
	}

	// Rename entries in file order, so that errors name the later entry.
	from := slices.Sorted(maps.Keys(c.Rename)) // by name within a line
	slices.SortStableFunc(from, func(a, b string) int {
		return d.line(joinKey(path+".rename", a)) - d.line(joinKey(path+".rename", b))
	})
	for i, f := range from {
		at := joinKey(path+".rename", f)
		to := c.Rename[f]
		for _, g := range from[:i] {
			switch {
			case strings.EqualFold(f, g):
				d.fail(at, "%q and %q name the same column (names are case-insensitive)", g, f)
			case strings.EqualFold(to, c.Rename[g]):
				d.fail(at, "renames to %q, as does %s on line %d; two columns cannot share a name", to, g, d.line(joinKey(path+".rename", g)))
			}
		}
		switch to {
		case "":
			d.fail(at, "empty new name")
		case sourceDB, sourceTable:
			d.fail(at, "%q is reserved for the provenance columns %s and %s", to, sourceDB, sourceTable)
		}
		if containsFold(c.Exclude, f) {
			d.fail(at, "column %q is also listed in exclude; drop one of the two", f)
		}
	}
	for i, b := range c.Boolean {
		if containsFold(c.Exclude, b) {
			d.fail(fmt.Sprintf("%s.boolean[%d]", path, i), "column %q is also listed in exclude; drop one of the two", b)
		}
	}
	return c
}

// regex compiles a pattern, reporting a syntax error without Go's
// "error parsing regexp:" preamble.
func (d *decoder) regex(path, pattern string) *regexp.Regexp {
	re, err := regexp.Compile(pattern)
	if err == nil {
		return re
	}
	msg := err.Error()
	var se *syntax.Error
	if errors.As(err, &se) {
		msg = se.Code.String()
		if se.Expr != "" && se.Expr != pattern {
			msg += " at " + quote(se.Expr)
		}
	}
	d.fail(path, "invalid regex %s: %s", quote(pattern), msg)
	return nil
}

func (d *decoder) uniqueNames(path string, names []string, what string) {
	for i, n := range names {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case n == "":
			d.fail(at, "empty %s name", what)
		case slices.Index(names, n) < i:
			d.fail(at, "%s %q is listed twice", what, n)
		}
	}
}

func listOf[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
