package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/status"
)

// canalInsert is a Canal flatMessage inserting users row id at es.
func canalInsert(id int, es time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"database": "app", "table": "users", "isDdl": false, "type": "INSERT", "es": es.UnixMilli(), "ts": es.UnixMilli(),
		"pkNames": []string{"id"}, "mysqlType": map[string]string{"id": "int(11)", "name": "varchar(20)"},
		"data": []map[string]string{{"id": fmt.Sprint(id), "name": fmt.Sprint("user", id)}}, "old": nil, "sql": "",
	})
	return b
}

// shopKafka starts an embedded Kafka with the topic binlog_shop of n
// partitions, and returns it with a function that produces records to it,
// each into the partition it names.
func shopKafka(t *testing.T, partitions int32) (*kfake.Cluster, func(...*kgo.Record)) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "binlog_shop"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic("binlog_shop"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kc, func(recs ...*kgo.Record) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// usersConfig writes a configuration that ingests binlog_shop of kc, in
// Canal format, into the warehouse dir/wh, with the one table users
// (app.users). kafka is YAML added to the kafka section (each line
// indented by two spaces), extra YAML added at the end.
func usersConfig(t *testing.T, kc *kfake.Cluster, dir, kafka, extra string) string {
	t.Helper()
	return writeConfig(t, fmt.Sprintf(`warehouse: %s
kafka:
  brokers: [%s]
  topics: [binlog_shop]
  format: canal
%stables:
  - name: users
    match: '^app\.users$'
    key: [id]
    bootstrap: empty
%s`, filepath.Join(dir, "wh"), strings.Join(kc.ListenAddrs(), ", "), kafka, extra))
}

// lake is a warehouse that real ingest runs fill from an embedded Kafka:
// 48 users rows on each of d1 and d2, none on d3, over two partitions,
// and one record that is not JSON.
type lake struct {
	cfg        string
	d1, d2, d3 time.Time
	today      time.Time
	produce    func(...*kgo.Record)
	must       func(args ...string) string
}

func newLake(t *testing.T) *lake {
	t.Helper()
	kc, produce := shopKafka(t, 2)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	d1, d2, d3 := today.AddDate(0, 0, -3), today.AddDate(0, 0, -2), today.AddDate(0, 0, -1)
	// 48 rows on each of d1 and d2, none on d3, two partitions.
	var recs []*kgo.Record
	for i := range 96 {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: canalInsert(i, d1.Add(time.Duration(i)*30*time.Minute))})
	}
	recs = append(recs, &kgo.Record{Partition: 0, Value: []byte("{not json")})
	produce(recs...)

	cfg := usersConfig(t, kc, t.TempDir(), "", "ingest:\n  max_dlq_ratio: 0.5\n")
	must := func(args ...string) string {
		t.Helper()
		code, out, stderr := invoke(t, nil, append(args, "--config", cfg)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		return out
	}
	return &lake{cfg: cfg, d1: d1, d2: d2, d3: d3, today: today, produce: produce, must: must}
}

// TestStatusFigures runs ingest and merge for real over two days, with a
// bad record and a late one, and checks every figure binlake status
// reports against what was produced.
func TestStatusFigures(t *testing.T) {
	l := newLake(t)
	cfg, d1, d2, d3, today, produce, must := l.cfg, l.d1, l.d2, l.d3, l.today, l.produce, l.must
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	report := func() *status.Report {
		t.Helper()
		var r status.Report
		if err := json.Unmarshal([]byte(must("status", "--days", "4", "--json")), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}

	must("ingest")
	must("merge", "--date", day(d1))
	must("merge", "--date", day(d2))
	// A late row of d1: its hour is ready, so it waits for the next merge.
	produce(&kgo.Record{Partition: 1, Value: canalInsert(1000, d1.Add(5*time.Hour))})
	must("ingest")

	r := report()
	if len(r.Partitions) != 2 {
		t.Fatalf("partitions: %+v", r.Partitions)
	}
	for _, p := range r.Partitions {
		if p.LagSeconds == nil || *p.LagSeconds < 0 || *p.LagSeconds > 600 {
			t.Errorf("partition %d: lag %v, want the seconds since the last run", p.Partition, p.LagSeconds)
		}
		wantCommit, wantDLQ := int64(2), 0
		if p.Partition == 0 {
			wantDLQ = 1
		}
		if p.Commit != wantCommit || p.DLQFiles != wantDLQ {
			t.Errorf("partition %d: commit %d, dlq files %d; want %d, %d", p.Partition, p.Commit, p.DLQFiles, wantCommit, wantDLQ)
		}
	}
	if len(r.Days) != 4 || r.Days[0].Date != day(d1) || r.Days[3].Date != day(today) {
		t.Fatalf("days: %+v", r.Days)
	}
	for _, d := range r.Days[:3] {
		if d.Hours != 24 || d.ReadyHours != 24 {
			t.Errorf("day %s: %d of %d hours ready, want 24 of 24", d.Date, d.ReadyHours, d.Hours)
		}
	}
	if r.Days[3].DLQRecords != 1 || r.Days[0].DLQRecords != 0 {
		t.Errorf("DLQ records by commit day: %+v, want 1 today", r.Days)
	}
	u := r.Tables[0]
	type fig struct {
		rows, late, snap int64
		files            int
	}
	want := map[string]fig{day(d1): {49, 1, 48, 1}, day(d2): {48, 0, 96, 1}, day(d3): {0, 0, -1, 0}, day(today): {0, 0, -1, 0}}
	for _, d := range u.Days {
		w := want[d.Date]
		snap := int64(-1)
		if d.Snapshot != nil {
			snap = d.Snapshot.Rows
		}
		if d.BinlogRows != w.rows || d.LateRows != w.late || snap != w.snap {
			t.Errorf("users %s: binlog rows %d late %d snapshot %d; want %d %d %d", d.Date, d.BinlogRows, d.LateRows, snap, w.rows, w.late, w.snap)
		}
	}
	if u.SnapshotDays != 2 || u.FirstSnapshot != day(d1) || u.LastSnapshot != day(d2) {
		t.Errorf("snapshot days: %d %s..%s", u.SnapshotDays, u.FirstSnapshot, u.LastSnapshot)
	}
	if m := u.LastMerge; m == nil || m.Kind != "merge" || m.Rows != 96 || m.Stats["inserted"] != 48 {
		t.Errorf("last merge: %+v", m)
	}
	if l := u.LateWaiting; l == nil || l.Rows != 1 || l.Files != 1 {
		t.Errorf("late waiting: %+v, want 1 row in 1 file", l)
	}

	// The next merge applies the late row: nothing waits any more.
	must("merge", "--date", day(d3))
	r = report()
	u = r.Tables[0]
	if l := u.LateWaiting; l == nil || l.Rows != 0 || u.LastSnapshot != day(d3) || u.LastMerge.Rows != 97 {
		t.Errorf("after merging %s: late waiting %+v, last %s %+v", day(d3), l, u.LastSnapshot, u.LastMerge)
	}

	// --kafka: the committed stream is at Kafka's end until more arrives.
	behind := func() map[int32]int64 {
		var r status.Report
		if err := json.Unmarshal([]byte(must("status", "--days", "1", "--json", "--kafka")), &r); err != nil {
			t.Fatal(err)
		}
		out := map[int32]int64{}
		for _, p := range r.Partitions {
			if p.OffsetsBehind == nil || p.KafkaEndOffset == nil {
				t.Fatalf("--kafka: partition %d has no Kafka figures: %+v", p.Partition, p)
			}
			out[p.Partition] = *p.OffsetsBehind
		}
		return out
	}
	if b := behind(); len(b) != 2 || b[0] != 0 || b[1] != 0 {
		t.Errorf("offsets behind after ingest: %v, want 0 and 0", b)
	}
	produce(&kgo.Record{Partition: 0, Value: canalInsert(2000, today)}, &kgo.Record{Partition: 0, Value: canalInsert(2001, today)})
	if b := behind(); b[0] != 2 || b[1] != 0 {
		t.Errorf("offsets behind after 2 more records on partition 0: %v, want 2 and 0", b)
	}

	text := must("status", "--date", day(d1))
	for _, s := range []string{"binlog_shop", "24/24", "users", "49", "LATE ROWS WAITING"} {
		if !strings.Contains(text, s) {
			t.Errorf("text output lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "BEHIND") || !strings.Contains(must("status", "--date", day(d1), "--kafka"), "BEHIND") {
		t.Errorf("the Kafka columns should show with --kafka only:\n%s", text)
	}
	if code, _, stderr := invoke(t, nil, "status", "--config", cfg, "--date", day(d1), "--days", "2"); code != exitUsage {
		t.Errorf("--date with --days: exit %d\n%s", code, stderr)
	}
}
