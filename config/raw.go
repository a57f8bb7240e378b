package config

// The raw structs mirror the YAML file. They are decoded by decoder (which
// reads only the name in each yaml tag) and, filled from a Config, marshaled
// by Redacted (which also honours omitempty and flow). Pointer fields tell an
// absent key from an explicit zero where the default is not the zero value.
// Field order is the order of keys in error messages and in Redacted output.

type rawConfig struct {
	Warehouse string                `yaml:"warehouse"`
	Timezone  string                `yaml:"timezone"`
	S3        *rawS3                `yaml:"s3,omitempty"`
	Kafka     *rawKafka             `yaml:"kafka,omitempty"`
	Ingest    rawIngest             `yaml:"ingest"`
	Merge     rawMerge              `yaml:"merge"`
	Sources   map[string]*rawSource `yaml:"sources,omitempty"`
	Tables    []*rawTable           `yaml:"tables"`
}

type rawS3 struct {
	Endpoint        string `yaml:"endpoint,omitempty"`
	Region          string `yaml:"region,omitempty"`
	PathStyle       bool   `yaml:"path_style"`
	AccessKeyID     string `yaml:"access_key_id,omitempty"`
	SecretAccessKey string `yaml:"secret_access_key,omitempty"`
}

type rawKafka struct {
	Brokers        []string           `yaml:"brokers,flow"`
	Topics         []string           `yaml:"topics,flow,omitempty"`
	TopicPattern   string             `yaml:"topic_pattern,omitempty"`
	Format         string             `yaml:"format"`
	SourceTimezone string             `yaml:"source_timezone"`
	Group          string             `yaml:"group,omitempty"`
	Partitions     map[string][]int32 `yaml:"partitions,flow,omitempty"`
	Start          string             `yaml:"start"`
	TLS            rawTLS             `yaml:"tls"`
	SASL           *rawSASL           `yaml:"sasl,omitempty"`
	Encryption     *rawEncryption     `yaml:"encryption,omitempty"`
	EventTimeField string             `yaml:"event_time_field,omitempty"`
}

type rawTLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

type rawSASL struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
}

type rawEncryption struct {
	KeyEnv  string `yaml:"key_env,omitempty"`
	KeyFile string `yaml:"key_file,omitempty"`
}

type rawIngest struct {
	Grace        string   `yaml:"grace"`
	MaxDLQRatio  *float64 `yaml:"max_dlq_ratio"`
	MemoryBudget string   `yaml:"memory_budget"`
	MaxFileSize  string   `yaml:"max_file_size"`
}

type rawMerge struct {
	MemoryBudget  string `yaml:"memory_budget"`
	FileSize      string `yaml:"file_size"`
	TombstoneDays *int   `yaml:"tombstone_days"`
	RetentionDays *int   `yaml:"retention_days"`
	SpillDir      string `yaml:"spill_dir"`
	// IntegerEncoding is plain or delta.
	IntegerEncoding string `yaml:"integer_encoding"`
}

type rawSource struct {
	DSN string `yaml:"dsn"`
	TLS bool   `yaml:"tls"`
}

type rawTable struct {
	Name              string     `yaml:"name"`
	Match             string     `yaml:"match"`
	Key               []string   `yaml:"key,flow"`
	KeyIncludesSource *bool      `yaml:"key_includes_source"`
	Sources           []string   `yaml:"sources,flow,omitempty"`
	Bootstrap         string     `yaml:"bootstrap"`
	EventTimeField    string     `yaml:"event_time_field,omitempty"`
	Columns           rawColumns `yaml:"columns"`
}

type rawColumns struct {
	Case    string            `yaml:"case"`
	Rename  map[string]string `yaml:"rename,omitempty"`
	Exclude []string          `yaml:"exclude,flow,omitempty"`
	Boolean []string          `yaml:"boolean,flow,omitempty"`
}
