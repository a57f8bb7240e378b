package main

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topic is the Kafka topic the benchmark produces to.
const topic = "binlog_shop"

// The benchmark table: orders, sharded over shardDBs databases of
// shardTables tables each (shop_03.orders_11). The column order is the
// table's, as Canal writes it.
const (
	shardDBs    = 8
	shardTables = 16
)

// benchColumn is one column of the benchmark table: its name, the types
// Canal sends for it and the DuckDB expression that types its text (m.d is
// the row image) as binlake's schema does.
type benchColumn struct {
	name, mysqlType string
	sqlType         int // java.sql.Types, as Canal fills sqlType
	duckdb          string
}

// wideColumns are ten columns of the types the issue asks for; Canal's
// flatMessages of them average ~860 bytes, since every message repeats
// mysqlType and sqlType.
var wideColumns = []benchColumn{
	{"id", "int(11)", 4, "CAST(m.d.id AS INTEGER)"},
	// DuckDB 1.5's direct VARCHAR → DECIMAL(20,0) cast costs ~25 µs a
	// value (ten times the rest of the query together), and nobody who
	// tunes a DuckDB job would leave it: UBIGINT first.
	{"customer_id", "bigint(20) unsigned", -5, "CAST(CAST(m.d.customer_id AS UBIGINT) AS DECIMAL(20,0))"},
	{"shop_id", "smallint(6)", 5, "CAST(m.d.shop_id AS INTEGER)"},
	{"amount", "decimal(10,2)", 3, "CAST(m.d.amount AS DECIMAL(10,2))"},
	{"note", "varchar(255)", 12, "m.d.note"},
	{"status", "enum('new','paid','shipped','delivered','cancelled')", 4, "['new', 'paid', 'shipped', 'delivered', 'cancelled'][CAST(m.d.status AS INTEGER)]"},
	{"created_at", "datetime(6)", 93, "CAST(m.d.created_at AS TIMESTAMP)"},
	{"updated_at", "timestamp", 93, "CAST(m.d.updated_at AS TIMESTAMP)::TIMESTAMPTZ"},
	{"is_gift", "tinyint(1)", -6, "CAST(m.d.is_gift AS INTEGER)"},
	{"version", "bigint(20)", -5, "CAST(m.d.version AS BIGINT)"},
}

// narrowColumns are the default: the integer key, a decimal and a
// timestamp. In Canal's real shape (every message repeats mysqlType and
// sqlType, and the envelope alone is ~200 bytes) they make messages of
// ~375 bytes, the nearest real shape to the issue's ~300 bytes.
var narrowColumns = []benchColumn{wideColumns[0], wideColumns[3], wideColumns[7]}

// columnSets are the -columns choices.
var columnSets = map[string][]benchColumn{"narrow": narrowColumns, "wide": wideColumns}

// statusLabels are the enum's labels; Canal sends the 1-based index.
var statusLabels = []string{"new", "paid", "shipped", "delivered", "cancelled"}

var notes = []string{
	"leave at the door",
	"call before delivery, the bell is broken",
	"gift wrap please",
	"deliver after 6pm",
	"second floor, blue door",
	"fragile: glassware inside",
	"customer asked for an invoice",
}

// orderRow is the current state of one row of a shard.
type orderRow struct {
	id       int32
	customer uint64
	shop     int16
	cents    int64
	note     int8 // index into notes, -1 = NULL
	noteNum  int32
	status   int8 // 1-based enum index
	created  int64
	updated  int64 // unix seconds
	gift     bool
	version  int64
}

type shard struct {
	db, table string
	part      int32
	rows      []orderRow
}

// generator builds a deterministic stream of single-row Canal INSERT and
// UPDATE flatMessages.
type generator struct {
	cols   []benchColumn
	has    map[string]bool
	rng    *rand.Rand
	shards []*shard
	base   time.Time
	span   time.Duration
	n      int
	buf    []byte
	// Canal's batch id: consecutive messages share one.
	batch int64
}

func newGenerator(n int, partitions int32, cols []benchColumn, now time.Time) *generator {
	g := &generator{
		cols: cols,
		has:  map[string]bool{},
		rng:  rand.New(rand.NewPCG(42, 3)),
		// Recent event times spread over three hours ending an hour ago:
		// the run also marks those hours ready, as in production.
		base:  now.Add(-4 * time.Hour).Truncate(time.Hour),
		span:  3 * time.Hour,
		n:     n,
		batch: 1000,
	}
	for _, c := range cols {
		g.has[c.name] = true
	}
	for d := range shardDBs {
		for t := range shardTables {
			s := &shard{db: fmt.Sprintf("shop_%02d", d), table: fmt.Sprintf("orders_%02d", t)}
			// canal.mq.partitionHash by table: all changes of a table go
			// to one partition, so offset order is binlog order per key.
			h := fnv.New32a()
			h.Write([]byte(s.db + "." + s.table))
			s.part = int32(h.Sum32() % uint32(partitions))
			g.shards = append(g.shards, s)
		}
	}
	return g
}

// next returns message i (valid until the next call), its partition and
// whether it is an UPDATE.
func (g *generator) next(i int) ([]byte, int32, bool) {
	s := g.shards[g.rng.IntN(len(g.shards))]
	es := g.base.Add(g.eventOffset(i)).Truncate(time.Second)
	if i%4 == 0 {
		g.batch++
	}
	if len(s.rows) > 0 && g.rng.IntN(10) < 3 {
		r := &s.rows[g.rng.IntN(len(s.rows))]
		old := *r
		r.status = int8(min(int(r.status)+1, len(statusLabels)))
		r.cents += int64(g.rng.IntN(2000)) - 1000
		if r.cents < 0 {
			r.cents = -r.cents
		}
		r.updated = es.Unix()
		r.version++
		return g.message(s, "UPDATE", es, r, &old), s.part, true
	}
	r := orderRow{
		id:       int32(len(s.rows) + 1),
		customer: uint64(g.rng.Int64N(1<<40)) + 1<<32,
		shop:     int16(g.rng.IntN(5000)),
		cents:    g.rng.Int64N(10_000_000),
		note:     int8(g.rng.IntN(len(notes)+2) - 2),
		noteNum:  g.rng.Int32N(100_000),
		status:   1,
		created:  es.UnixMicro() + g.rng.Int64N(1_000_000),
		updated:  es.Unix(),
		gift:     g.rng.IntN(8) == 0,
		version:  1,
	}
	if r.note < 0 {
		r.note = -1
	}
	s.rows = append(s.rows, r)
	return g.message(s, "INSERT", es, &r, nil), s.part, false
}

// eventOffset is how far into the span message i's event time lies:
// span·i/n, computed in 128 bits (span·i overflows int64 from i = 853,900
// on, which put the last messages of a million hours before the first).
func (g *generator) eventOffset(i int) time.Duration {
	hi, lo := bits.Mul64(uint64(g.span), uint64(i))
	q, _ := bits.Div64(hi, lo, uint64(g.n))
	return time.Duration(q)
}

// message writes a Canal flatMessage the way Canal's fastjson does: keys in
// alphabetical order, every value a string or null, old holding only the
// changed columns of an UPDATE.
func (g *generator) message(s *shard, typ string, es time.Time, r, old *orderRow) []byte {
	b := g.buf[:0]
	b = append(b, `{"data":[`...)
	b = g.appendRow(b, r, nil)
	b = append(b, `],"database":"`...)
	b = append(b, s.db...)
	b = append(b, `","es":`...)
	b = strconv.AppendInt(b, es.UnixMilli(), 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, g.batch, 10)
	b = append(b, `,"isDdl":false,"mysqlType":{`...)
	for i, c := range g.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, c.name...)
		b = append(b, `":"`...)
		b = append(b, c.mysqlType...)
		b = append(b, '"')
	}
	b = append(b, `},"old":`...)
	if old != nil {
		b = append(b, '[')
		b = g.appendRow(b, old, r)
		b = append(b, ']')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"pkNames":["id"],"sql":"","sqlType":{`...)
	for i, c := range g.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, c.name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(c.sqlType), 10)
	}
	b = append(b, `},"table":"`...)
	b = append(b, s.table...)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, es.UnixMilli()+int64(g.rng.IntN(900))+50, 10)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `"}`...)
	g.buf = b
	return b
}

// appendRow writes a row image. With than set, only the columns whose
// values differ from than are written (Canal's old).
func (g *generator) appendRow(b []byte, r, than *orderRow) []byte {
	b = append(b, '{')
	first := true
	col := func(name string) bool {
		if !g.has[name] {
			return false
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		return true
	}
	if (than == nil || r.id != than.id) && col("id") {
		b = appendQuoted(b, strconv.AppendInt(nil, int64(r.id), 10))
	}
	if (than == nil || r.customer != than.customer) && col("customer_id") {
		b = appendQuoted(b, strconv.AppendUint(nil, r.customer, 10))
	}
	if (than == nil || r.shop != than.shop) && col("shop_id") {
		b = appendQuoted(b, strconv.AppendInt(nil, int64(r.shop), 10))
	}
	if (than == nil || r.cents != than.cents) && col("amount") {
		b = appendQuoted(b, fmt.Appendf(nil, "%d.%02d", r.cents/100, r.cents%100))
	}
	if (than == nil || r.note != than.note || r.noteNum != than.noteNum) && col("note") {
		if r.note < 0 {
			b = append(b, "null"...)
		} else {
			b = appendQuoted(b, fmt.Appendf(nil, "%s (ref %d)", notes[r.note], r.noteNum))
		}
	}
	if (than == nil || r.status != than.status) && col("status") {
		b = appendQuoted(b, strconv.AppendInt(nil, int64(r.status), 10))
	}
	if (than == nil || r.created != than.created) && col("created_at") {
		b = appendQuoted(b, time.UnixMicro(r.created).UTC().AppendFormat(nil, "2006-01-02 15:04:05.000000"))
	}
	if (than == nil || r.updated != than.updated) && col("updated_at") {
		b = appendQuoted(b, time.Unix(r.updated, 0).UTC().AppendFormat(nil, time.DateTime))
	}
	if (than == nil || r.gift != than.gift) && col("is_gift") {
		if r.gift {
			b = append(b, `"1"`...)
		} else {
			b = append(b, `"0"`...)
		}
	}
	if (than == nil || r.version != than.version) && col("version") {
		b = appendQuoted(b, strconv.AppendInt(nil, r.version, 10))
	}
	return append(b, '}')
}

// appendQuoted appends s as a JSON string; the generated values need no
// escaping.
func appendQuoted(b, s []byte) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// dataset is what the generator produced.
type dataset struct {
	n          int
	jsonl      string // path of the JSON-lines file
	jsonlBytes int64
	valueBytes int64 // sum of the Kafka record values
	inserts    int
	updates    int
	perPart    []int64
	first      time.Time
	last       time.Time
}

// produce writes n messages to a new kfake cluster and the same messages,
// one a line, to jsonlPath.
func produce(ctx context.Context, n int, partitions int32, cols []benchColumn, jsonlPath string, compression kgo.CompressionCodec) (*kfake.Cluster, *dataset, error) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		return nil, nil, fmt.Errorf("start kfake: %w", err)
	}
	ds, err := fill(ctx, kc, n, partitions, cols, jsonlPath, compression)
	if err != nil {
		kc.Close()
		return nil, nil, err
	}
	return kc, ds, nil
}

func fill(ctx context.Context, kc *kfake.Cluster, n int, partitions int32, cols []benchColumn, jsonlPath string, compression kgo.CompressionCodec) (*dataset, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(kc.ListenAddrs()...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(compression),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(50_000),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	f, err := os.Create(jsonlPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	ds := &dataset{n: n, jsonl: jsonlPath, perPart: make([]int64, partitions)}
	g := newGenerator(n, partitions, cols, time.Now())
	ds.first = g.base
	ds.last = g.base.Add(g.span)
	errc := make(chan error, 1)
	for i := range n {
		msg, p, update := g.next(i)
		if update {
			ds.updates++
		} else {
			ds.inserts++
		}
		ds.valueBytes += int64(len(msg))
		ds.perPart[p]++
		if _, err := w.Write(msg); err != nil {
			return nil, err
		}
		if err := w.WriteByte('\n'); err != nil {
			return nil, err
		}
		v := append([]byte(nil), msg...)
		cl.Produce(ctx, &kgo.Record{Partition: p, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, fmt.Errorf("produce: %w", err)
	}
	select {
	case err := <-errc:
		return nil, fmt.Errorf("produce: %w", err)
	default:
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ds.jsonlBytes = st.Size()
	return ds, f.Close()
}
