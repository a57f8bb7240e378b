package ingest

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/config"
)

// EndOffsets returns the current end offset of every partition of the
// configured topics (kafka.topics or kafka.topic_pattern), whoever owns
// them: kafka.partitions does not narrow it. binlake status compares them
// with the committed offsets. It connects as ingest does (TLS, SASL) and
// reads nothing but offsets.
func EndOffsets(ctx context.Context, k *config.Kafka) (map[string]map[int32]int64, error) {
	opts, err := clientOpts(k)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	all := *k
	all.Partitions = nil
	owned, _, err := discover(ctx, adm, &all)
	if err != nil {
		return nil, err
	}
	ends, err := offsets(ctx, adm, owned, true)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]int64{}
	for p, o := range ends {
		if out[p.Topic] == nil {
			out[p.Topic] = map[int32]int64{}
		}
		out[p.Topic][p.Partition] = o
	}
	return out, nil
}
