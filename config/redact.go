package config

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.yaml.in/yaml/v3"
)

// mask replaces secrets in Redacted output.
const mask = "****"

// Redacted returns the resolved configuration as YAML: every default filled
// in, every ${VAR} expanded, the warehouse as a URL, and the secrets (DSN
// passwords, the Kafka SASL password, the S3 secret key) replaced by "****".
// A DSN that does not parse is masked whole. A $ that would read as $$ or
// ${…} is written as $$, so the output loads back to the same configuration
// (with the masks in place of the secrets). It is what
// binlake config check prints.
func (c *Config) Redacted() ([]byte, error) {
	raw := c.toRaw()
	if raw.S3 != nil && raw.S3.SecretAccessKey != "" {
		raw.S3.SecretAccessKey = mask
	}
	if raw.Kafka != nil && raw.Kafka.SASL != nil && raw.Kafka.SASL.Password != "" {
		raw.Kafka.SASL.Password = mask
	}
	for _, s := range raw.Sources {
		s.DSN = maskDSN(s.DSN)
	}
	escapeAll(&raw)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&raw); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maskDSN replaces the password in a go-sql-driver DSN.
func maskDSN(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return mask
	}
	if cfg.Passwd == "" {
		return dsn
	}
	cfg.Passwd = mask
	return cfg.FormatDSN()
}

// toRaw converts c back to the file's shape with every default explicit.
func (c *Config) toRaw() rawConfig {
	raw := rawConfig{
		Warehouse: c.Warehouse.String(),
		Timezone:  locationName(c.Location),
		Ingest: rawIngest{
			Grace:        formatDuration(c.Ingest.Grace),
			MaxDLQRatio:  &c.Ingest.MaxDLQRatio,
			MemoryBudget: formatSize(c.Ingest.MemoryBudget),
			MaxFileSize:  formatSize(c.Ingest.MaxFileSize),
		},
		Merge: rawMerge{
			MemoryBudget:    formatSize(c.Merge.MemoryBudget),
			FileSize:        formatSize(c.Merge.FileSize),
			TombstoneDays:   &c.Merge.TombstoneDays,
			RetentionDays:   &c.Merge.RetentionDays,
			SpillDir:        c.Merge.SpillDir,
			IntegerEncoding: string(c.Merge.IntegerEncoding),
		},
		Tables: []*rawTable{},
	}
	if c.Warehouse.Scheme == "file" {
		// A plain path: file:// URLs would need %-escaping.
		raw.Warehouse = c.Warehouse.Path
	}
	if s := c.S3; s != nil {
		raw.S3 = &rawS3{
			Endpoint:        s.Endpoint,
			Region:          s.Region,
			PathStyle:       s.PathStyle,
			AccessKeyID:     s.AccessKeyID,
			SecretAccessKey: s.SecretAccessKey,
		}
	}
	if k := c.Kafka; k != nil {
		rk := &rawKafka{
			Brokers:        k.Brokers,
			Topics:         k.Topics,
			Format:         string(k.Format),
			SourceTimezone: locationName(k.SourceLocation),
			Group:          k.Group,
			Partitions:     k.Partitions,
			Start:          string(k.Start),
			TLS: rawTLS{
				Enabled:            k.TLS.Enabled,
				CAFile:             k.TLS.CAFile,
				CertFile:           k.TLS.CertFile,
				KeyFile:            k.TLS.KeyFile,
				InsecureSkipVerify: k.TLS.InsecureSkipVerify,
			},
			EventTimeField: k.EventTimeField,
		}
		if k.TopicPattern != nil {
			rk.TopicPattern = k.TopicPattern.String()
		}
		if k.SASL != nil {
			rk.SASL = &rawSASL{Mechanism: string(k.SASL.Mechanism), Username: k.SASL.Username, Password: k.SASL.Password}
		}
		if k.Encryption != nil {
			rk.Encryption = &rawEncryption{KeyEnv: k.Encryption.KeyEnv, KeyFile: k.Encryption.KeyFile}
		}
		raw.Kafka = rk
	}
	if len(c.Sources) > 0 {
		raw.Sources = make(map[string]*rawSource, len(c.Sources))
		for name, s := range c.Sources {
			raw.Sources[name] = &rawSource{DSN: s.DSN, TLS: s.TLS}
		}
	}
	kafkaEventTime := ""
	if c.Kafka != nil {
		kafkaEventTime = c.Kafka.EventTimeField
	}
	for _, t := range c.Tables {
		rt := &rawTable{
			Name:              t.Name,
			Key:               t.Key,
			KeyIncludesSource: &t.KeyIncludesSource,
			Sources:           t.Sources,
			Bootstrap:         string(t.Bootstrap),
			Columns: rawColumns{
				Case:    string(t.Columns.Case),
				Rename:  t.Columns.Rename,
				Exclude: t.Columns.Exclude,
				Boolean: t.Columns.Boolean,
			},
		}
		if rt.Columns.Case == "" {
			rt.Columns.Case = string(CaseKeep)
		}
		if t.Match != nil {
			rt.Match = t.Match.String()
		}
		// The inherited kafka.event_time_field is printed once, under kafka.
		if t.EventTimeField != kafkaEventTime {
			rt.EventTimeField = t.EventTimeField
		}
		raw.Tables = append(raw.Tables, rt)
	}
	return raw
}

func locationName(l *time.Location) string {
	if l == nil {
		return "UTC"
	}
	return l.String()
}

// escapeAll applies escapeDollars to every string of raw, copying the
// slices and maps it changes so that the Config is left alone.
func escapeAll(raw *rawConfig) {
	esc := func(s *string) { *s = escapeDollars(*s) }
	escList := func(xs []string) []string {
		out := slices.Clone(xs)
		for i := range out {
			esc(&out[i])
		}
		return out
	}
	esc(&raw.Warehouse)
	esc(&raw.Merge.SpillDir)
	if s := raw.S3; s != nil {
		esc(&s.Endpoint)
		esc(&s.Region)
		esc(&s.AccessKeyID)
		esc(&s.SecretAccessKey)
	}
	if k := raw.Kafka; k != nil {
		k.Brokers = escList(k.Brokers)
		k.Topics = escList(k.Topics)
		esc(&k.TopicPattern)
		esc(&k.Group)
		esc(&k.EventTimeField)
		esc(&k.TLS.CAFile)
		esc(&k.TLS.CertFile)
		esc(&k.TLS.KeyFile)
		if k.SASL != nil {
			esc(&k.SASL.Username)
			esc(&k.SASL.Password)
		}
		if k.Encryption != nil {
			esc(&k.Encryption.KeyFile)
		}
	}
	for _, s := range raw.Sources {
		esc(&s.DSN)
	}
	for _, t := range raw.Tables {
		esc(&t.Match)
		esc(&t.EventTimeField)
		t.Key = escList(t.Key)
		t.Sources = escList(t.Sources)
		t.Columns.Exclude = escList(t.Columns.Exclude)
		t.Columns.Boolean = escList(t.Columns.Boolean)
		if t.Columns.Rename != nil {
			rename := make(map[string]string, len(t.Columns.Rename))
			for _, from := range slices.Sorted(maps.Keys(t.Columns.Rename)) {
				rename[from] = escapeDollars(t.Columns.Rename[from])
			}
			t.Columns.Rename = rename
		}
	}
}
