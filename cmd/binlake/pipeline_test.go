package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestIngestThenCheckdone drives the commands as a scheduler would: ingest
// a stream whose events end yesterday, then ask checkdone about yesterday
// (ready: exit 0) and today (not yet: exit 75).
func TestIngestThenCheckdone(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "binlog_shop"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	yesterday := today.Add(-24 * time.Hour)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("binlog_shop"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range 48 {
		es := yesterday.Add(time.Duration(i) * 30 * time.Minute)
		if es.After(now) {
			break
		}
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: canalInsert(i, es)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	dir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`warehouse: %s
kafka:
  brokers: [%s]
  topics: [binlog_shop]
  format: canal
tables:
  - name: users
    match: '^app\.users$'
    key: [id]
    bootstrap: empty
`, filepath.Join(dir, "wh"), strings.Join(kc.ListenAddrs(), ", ")))
	summary := filepath.Join(dir, "ingest.json")
	code, _, stderr := invoke(t, nil, "ingest", "--config", cfg, "--summary", summary)
	if code != exitOK {
		t.Fatalf("ingest: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "binlake ingest: ok:") {
		t.Errorf("no one-line summary: %s", stderr)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"records": `+fmt.Sprint(len(recs))) {
		t.Errorf("summary JSON does not count %d records:\n%s", len(recs), b)
	}

	code, out, stderr := invoke(t, nil, "checkdone", "--config", cfg, "--date", yesterday.Format(time.DateOnly), "--json")
	if code != exitOK {
		t.Fatalf("checkdone yesterday: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `"ready": true`) {
		t.Errorf("--json output: %s", out)
	}
	code, _, stderr = invoke(t, nil, "checkdone", "--config", cfg, "--date", today.Add(24*time.Hour).Format(time.DateOnly))
	if code != exitNotReady || !strings.Contains(stderr, "not ready yet") || !strings.Contains(stderr, "hr=23") {
		t.Fatalf("checkdone tomorrow: exit %d, want 75\n%s", code, stderr)
	}
}
