package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/binlake/binlake/config"
)

// partitionID names one Kafka partition.
type partitionID struct {
	Topic     string
	Partition int32
}

func (p partitionID) String() string { return fmt.Sprintf("%s/%d", p.Topic, p.Partition) }

// clientOpts builds the franz-go options for brokers, TLS and SASL.
//
// The clients push no metrics to the brokers (KIP-714): franz-go would
// otherwise ask each broker for a subscription when a client starts,
// gzip its metrics, and send a last push from Close, a round trip at the
// end of every run for each client.
func clientOpts(k *config.Kafka) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.ClientID("binlake"), kgo.DisableClientMetrics()}
	if k.TLS.Enabled {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: k.TLS.InsecureSkipVerify} //nolint:gosec // the user asked for it
		if k.TLS.CAFile != "" {
			pem, err := os.ReadFile(k.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka.tls.ca_file %s: no PEM certificate in it", k.TLS.CAFile)
			}
		}
		if k.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(k.TLS.CertFile, k.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if s := k.SASL; s != nil {
		switch strings.ToLower(string(s.Mechanism)) {
		case "plain":
			opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()))
		case "scram-sha-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()))
		case "scram-sha-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("kafka.sasl.mechanism %q not supported", s.Mechanism)
		}
	}
	return opts, nil
}

// discover lists the partitions this process owns: every partition of the
// configured topics (or of the topics matching topic_pattern), narrowed to
// kafka.partitions when that is set; and the topics' IDs (KIP-516; none
// from brokers before Kafka 2.8).
func discover(ctx context.Context, adm *kadm.Client, k *config.Kafka) ([]partitionID, map[string]string, error) {
	var topics kadm.TopicDetails
	var err error
	if k.TopicPattern != nil {
		topics, err = adm.ListTopics(ctx)
	} else {
		topics, err = adm.ListTopics(ctx, k.Topics...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list kafka topics: %w", err)
	}
	var parts []partitionID
	var missing []string
	ids := map[string]string{}
	for name, td := range topics {
		if k.TopicPattern != nil && !k.TopicPattern.MatchString(name) {
			continue
		}
		if td.Err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", name, td.Err))
			continue
		}
		if td.ID != (kadm.TopicID{}) {
			ids[name] = td.ID.String()
		}
		for p := range td.Partitions {
			if want, ok := k.Partitions[name]; len(k.Partitions) > 0 && (!ok || !slices.Contains(want, p)) {
				continue
			}
			parts = append(parts, partitionID{name, p})
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, nil, fmt.Errorf("kafka topics not available: %s", strings.Join(missing, ", "))
	}
	if len(parts) == 0 {
		return nil, nil, errors.New("no kafka partitions to read: check kafka.topics, kafka.topic_pattern and kafka.partitions")
	}
	slices.SortFunc(parts, comparePartitions)
	return parts, ids, nil
}

// allPartitions lists every partition of the topics the owned partitions
// belong to: ready markers need the state of all of them.
func allPartitions(ctx context.Context, adm *kadm.Client, owned []partitionID) ([]partitionID, error) {
	var names []string
	for _, p := range owned {
		if !slices.Contains(names, p.Topic) {
			names = append(names, p.Topic)
		}
	}
	topics, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list kafka topics: %w", err)
	}
	var parts []partitionID
	for name, td := range topics {
		if td.Err != nil {
			return nil, fmt.Errorf("kafka topic %s: %w", name, td.Err)
		}
		for p := range td.Partitions {
			parts = append(parts, partitionID{name, p})
		}
	}
	slices.SortFunc(parts, comparePartitions)
	return parts, nil
}

func comparePartitions(a, b partitionID) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return int(a.Partition) - int(b.Partition)
}

// offsets lists the start (earliest) or end offsets of partitions; an end
// offset is the last stable offset (see below).
func offsets(ctx context.Context, adm *kadm.Client, parts []partitionID, end bool) (map[partitionID]int64, error) {
	var topics []string
	for _, p := range parts {
		if !slices.Contains(topics, p.Topic) {
			topics = append(topics, p.Topic)
		}
	}
	list := adm.ListStartOffsets
	what := "start"
	if end {
		// The last stable offset: ingest reads committed records only
		// (read_committed), and records of a transaction still open
		// are not readable until it ends. The high watermark would put
		// them below the end, where the run would wait for them.
		list, what = adm.ListCommittedOffsets, "end"
	}
	listed, err := list(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list kafka %s offsets: %w", what, err)
	}
	out := make(map[partitionID]int64, len(parts))
	for _, p := range parts {
		o, ok := listed.Lookup(p.Topic, p.Partition)
		if !ok {
			return nil, fmt.Errorf("list kafka %s offsets: no answer for %s", what, p)
		}
		if o.Err != nil {
			return nil, fmt.Errorf("list kafka %s offset of %s: %w", what, p, o.Err)
		}
		out[p] = o.Offset
	}
	return out, nil
}
