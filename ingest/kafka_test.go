package ingest_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage/mem"
	"github.com/binlake/binlake/warehouse"
)

// Transactions (Debezium's exactly-once source, Canal with
// canal.mq.transaction): a run reads committed records only, counts the
// commit and abort markers as skipped, stops below a transaction still
// open, and a later run reads that transaction once it commits. Nothing
// of an aborted transaction is ingested.
func TestTransactionalProducer(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	msg := func(id int) *kgo.Record {
		return rec(0, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: id, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil))
	}
	produce(t, kc, msg(1), msg(2))
	txn, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("binlake-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	// A transaction of records ids, ended by end unless open.
	inTxn := func(end kgo.TransactionEndTry, open bool, ids ...int) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := txn.ProduceSync(ctx, msg(id)).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if !open {
			if err := txn.EndTransaction(ctx, end); err != nil {
				t.Fatal(err)
			}
		}
	}
	inTxn(kgo.TryCommit, false, 3, 4, 5) // offsets 2-4, commit marker 5
	inTxn(kgo.TryAbort, false, 100, 101) // offsets 6-7, abort marker 8
	inTxn(kgo.TryCommit, true, 6, 7)     // offsets 9-10, still open
	st := mem.New()
	o := options(t, kc, st, es.Add(time.Hour))
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	c := lastCommits(t, st)[0]
	if got := committedOffsets(t, st)[0]; !slices.Equal(got, []int64{0, 1, 2, 3, 4}) || c.EndOffset != 9 || c.Skipped["transaction-marker"] != 2 || c.CaughtUpAt.IsZero() {
		t.Fatalf("first run: offsets %v, end offset %d (want 9, the open transaction's first), skipped %v, caught up at %v; summary %+v", got, c.EndOffset, c.Skipped, c.CaughtUpAt, sum)
	}

	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil { // marker 11
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	c = lastCommits(t, st)[0]
	if got := committedOffsets(t, st)[0]; !slices.Equal(got, []int64{0, 1, 2, 3, 4, 9, 10}) || c.EndOffset != 12 || c.Skipped["transaction-marker"] != 1 {
		t.Fatalf("second run: offsets %v, end offset %d (want 12), skipped %v", got, c.EndOffset, c.Skipped)
	}
}

// A broker that does not answer for longer than the idle timeout ends the
// run early, but the run never counts offsets it did not read as read: the
// partition is neither moved on nor caught up, and the next run ingests
// every record exactly once.
func TestIdleBrokerLosesNothing(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	produce(t, kc, spreadInserts(es, 40, 2)...)
	st := mem.New()
	o := options(t, kc, st, es.Add(time.Hour))
	o.IdleTimeout = 500 * time.Millisecond
	release := make(chan struct{})
	kc.ControlKey(kmsg.Fetch.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		kc.SleepControl(func() { <-release })
		return nil, nil, false
	})
	sum, err := ingest.Run(ctx, o)
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 0 {
		t.Fatalf("the broker answered no fetch, yet %d records were read", sum.Records)
	}
	for p, c := range lastCommits(t, st) {
		if c.EndOffset != 0 || !c.CaughtUpAt.IsZero() {
			t.Errorf("partition %d: committed up to offset %d, caught up at %v; want 0 and never", p, c.EndOffset, c.CaughtUpAt)
		}
	}
	kc.DropControl()
	o.IdleTimeout = 30 * time.Second
	if _, err := ingest.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	offs := committedOffsets(t, st)
	for p := range int32(2) {
		if got := offs[p]; len(got) != 20 || got[19] != 19 {
			t.Errorf("after the second run partition %d has offsets %v committed, want 0-19", p, got)
		}
	}
}

// inserts returns n Canal inserts of orders from id from on, for
// partition 0, with event time es.
func inserts(es time.Time, from, n int) []*kgo.Record {
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, rec(0, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: from + i, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)))
	}
	return recs
}

// spreadInserts returns n Canal inserts of orders from id 0 on, with
// event time es, dealt over partitions 0 to parts-1 in turn.
func spreadInserts(es time.Time, n int, parts int32) []*kgo.Record {
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, rec(int32(i)%parts, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: i, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)))
	}
	return recs
}

// A partition whose log no longer holds what binlake committed stops the
// run with an error that names it, instead of skipping records: records
// deleted by retention before they were read, and a log whose end is below
// the committed offset (the topic created again).
func TestPartitionLogGoneBack(t *testing.T) {
	ctx := context.Background()
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	msgs := func(from, n int) []*kgo.Record { return inserts(es, from, n) }
	kc := startKafka(t, 1)
	produce(t, kc, msgs(0, 10)...)
	st := mem.New()
	if _, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}

	// Retention removes offsets 10-14 before a run reads them.
	produce(t, kc, msgs(10, 10)...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = 15
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	cl.Close()
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("delete records: %v %+v", err, resp)
	}
	_, err = ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "partition binlog_shop/0: the next offset to ingest is 10 but Kafka's earliest is 15: records 10..14 were deleted by Kafka retention") {
		t.Errorf("records deleted unread: err %v", err)
	}

	// The topic, created again: shorter than what binlake committed, and
	// longer. Either way its ID differs from the one the commit recorded,
	// and neither a run nor a replay reads it.
	day := warehouse.DateOf(es)
	recreated := "topic binlog_shop has ID "
	for _, n := range []int{3, 30} {
		again := startKafka(t, 1)
		produce(t, again, msgs(100, n)...)
		for _, replay := range []*warehouse.Date{nil, &day} {
			o := options(t, again, st, es.Add(time.Hour))
			o.ReplayDate = replay
			_, err = ingest.Run(ctx, o)
			if err == nil || !strings.Contains(err.Error(), recreated) || !strings.Contains(err.Error(), "the topic was deleted and created again") {
				t.Errorf("a recreated topic of %d records (replay %v): err %v", n, replay != nil, err)
			}
		}
	}
	// Without a topic ID in the commit (brokers before Kafka 2.8), a log
	// that ends below the committed offset is still told apart.
	key := warehouse.CommitKey(topic, 0, 1)
	c, err := warehouse.ReadCommit(ctx, st, key)
	if err != nil || c.TopicID == "" {
		t.Fatalf("commit 1: %+v %v: want a topic ID", c, err)
	}
	c.TopicID = ""
	b, err := warehouse.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	again := startKafka(t, 1)
	produce(t, again, msgs(100, 3)...)
	for _, replay := range []*warehouse.Date{nil, &day} {
		o := options(t, again, st, es.Add(time.Hour))
		o.ReplayDate = replay
		_, err = ingest.Run(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "partition binlog_shop/0: binlake has ingested up to offset 10 but Kafka's end offset is 3: the topic was deleted and created again") {
			t.Errorf("a log behind the commit (replay %v): err %v", replay != nil, err)
		}
	}
	if got := committedOffsets(t, st)[0]; len(got) != 10 || len(allCommits(t, st)) != 1 {
		t.Errorf("%d rows in %d commits, want the first run's 10 in 1", len(got), len(allCommits(t, st)))
	}
}

// TestAcceptTopicID: a topic that moved to another cluster with its
// records at the same offsets has a new ID; ingest stops, naming it, and
// reads on when told to accept it, and its commits then record it.
func TestAcceptTopicID(t *testing.T) {
	ctx := context.Background()
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	msgs := func(from, n int) []*kgo.Record { return inserts(es, from, n) }
	old := startKafka(t, 1)
	produce(t, old, msgs(0, 10)...)
	st := mem.New()
	if _, err := ingest.Run(ctx, options(t, old, st, es.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	moved := startKafka(t, 1)
	produce(t, moved, msgs(0, 15)...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(moved.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	topics, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	id := topics[topic].ID.String()
	_, err = ingest.Run(ctx, options(t, moved, st, es.Add(time.Hour)))
	if err == nil || !strings.Contains(err.Error(), "--accept-topic-id "+id) {
		t.Fatalf("a moved topic: err %v, want the flag and the new ID named", err)
	}
	o := options(t, moved, st, es.Add(time.Hour))
	o.AcceptTopicIDs = []string{id}
	if _, err := ingest.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := committedOffsets(t, st)[0]; len(got) != 15 || got[14] != 14 {
		t.Errorf("committed offsets %v, want 0..14", got)
	}
	c, err := warehouse.ReadCommit(ctx, st, warehouse.CommitKey(topic, 0, 2))
	if err != nil || c.TopicID != id || c.StartOffset != 10 {
		t.Errorf("commit 2: %+v %v, want offsets from 10 and topic ID %s", c, err, id)
	}
	// The next run needs no flag.
	produce(t, moved, msgs(15, 1)...)
	if _, err := ingest.Run(ctx, options(t, moved, st, es.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
}

// A run's clients neither push metrics to the brokers (KIP-714) nor open
// fetch sessions (KIP-227): both cost round trips, the last ones when the
// clients close at the end of every run.
func TestClientsPushNoMetricsAndOpenNoFetchSessions(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	produce(t, kc, spreadInserts(es, 40, 2)...)
	var mu sync.Mutex
	var telemetry, fetches, sessions int
	count := func(key int16) {
		kc.ControlKey(key, func(req kmsg.Request) (kmsg.Response, error, bool) {
			kc.KeepControl()
			mu.Lock()
			defer mu.Unlock()
			if f, ok := req.(*kmsg.FetchRequest); ok {
				fetches++
				if f.SessionEpoch != -1 || f.SessionID != 0 {
					sessions++
				}
			} else {
				telemetry++
			}
			return nil, nil, false
		})
	}
	count(kmsg.GetTelemetrySubscriptions.Int16())
	count(kmsg.PushTelemetry.Int16())
	count(kmsg.Fetch.Int16())
	st := mem.New()
	sum, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if sum.Records != 40 || fetches == 0 || telemetry != 0 || sessions != 0 {
		t.Fatalf("read %d records (want 40) in %d fetches; %d telemetry requests and %d fetches in a session, want none", sum.Records, fetches, telemetry, sessions)
	}
}
