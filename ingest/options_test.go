package ingest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/storage/mem"
)

// Many open table-hours and a small memory budget: buffers are written out
// early, the budget holds, and every row still lands exactly once.
func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 2)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	const n = 6000
	for i := range n {
		es := base.Add(time.Duration(i%6) * time.Hour)
		recs = append(recs, rec(int32(i%2), canalMessage(fmt.Sprintf("shop_%02d", i%40), "orders_00", "INSERT", es,
			[]orderRow{{ID: i, Customer: 1, Cents: 1, Status: 1, Note: strp("a note of some length to fill the buffers"), Created: es}}, nil)))
	}
	produce(t, kc, recs...)
	st := mem.New()
	o := options(t, kc, st, base.Add(7*time.Hour))
	o.Tables = nil
	for i := range 40 {
		o.Tables = append(o.Tables, config.Table{
			Name: fmt.Sprintf("orders_%02d", i), Match: regexp.MustCompile(fmt.Sprintf(`^shop_%02d\.`, i)),
			Key: []string{"id"}, KeyIncludesSource: true,
		})
	}
	const budget = 128 << 10
	o.MemoryBudget = budget
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	open := 40 * 6 // table-hours, each in both partitions
	if sum.PeakBuffered > budget+4096 {
		t.Errorf("peak buffered %d bytes, budget %d", sum.PeakBuffered, budget)
	}
	if sum.Files <= int64(open) {
		t.Errorf("%d files for %d open table-hours: nothing was flushed early", sum.Files, open)
	}
	var rows int64
	for _, f := range committedFiles(t, st) {
		rows += f.Rows
	}
	if rows != n {
		t.Errorf("%d rows committed, want %d", rows, n)
	}
	t.Logf("%d files, peak buffered %d bytes (budget %d)", sum.Files, sum.PeakBuffered, budget)
}

// SASL/SCRAM, topics by pattern and the informational consumer group.
func TestSASLTopicPatternGroup(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "binlog_a", "binlog_b", "other"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "binlake", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	auth := kgo.SASL(scram.Auth{User: "binlake", Pass: "s3cret"}.AsSha256Mechanism())
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), auth, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	msg := canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: 1, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)
	for _, tp := range []string{"binlog_a", "binlog_b", "other"} {
		for p := range int32(2) {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: tp, Partition: p, Value: msg}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cl.Close()

	st := mem.New()
	o := options(t, kc, st, es.Add(2*time.Hour))
	o.Kafka.Topics = nil
	o.Kafka.TopicPattern = regexp.MustCompile(`^binlog_`)
	o.Kafka.Group = "binlake-ods"
	o.Kafka.SASL = &config.SASL{Mechanism: "scram-sha-256", Username: "binlake", Password: "s3cret"}
	sum, err := ingest.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 4 || len(sum.Partitions) != 4 {
		t.Fatalf("want 4 records from 4 partitions of binlog_a and binlog_b, got %d from %d", sum.Records, len(sum.Partitions))
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), auth)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	offs, err := kadm.NewClient(adm).FetchOffsets(ctx, "binlake-ods")
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{"binlog_a", "binlog_b"} {
		for p := range int32(2) {
			if o, ok := offs.Lookup(tp, p); !ok || o.At != 1 {
				t.Errorf("group offset of %s/%d: %+v, want 1", tp, p, o)
			}
		}
	}
	// Wrong password: a clear failure, nothing committed.
	o.Kafka.SASL.Password = "wrong"
	if _, err := ingest.Run(ctx, o); err == nil {
		t.Error("run with a wrong password succeeded")
	}
}

// Too many undecodable records fail the run loudly and commit nothing;
// a higher ratio lets them through to the dead-letter queue.
func TestDLQRatio(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i := range 10 {
		v := canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: i, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)
		if i%2 == 1 {
			v = []byte("not json at all")
		}
		recs = append(recs, rec(0, v))
	}
	produce(t, kc, recs...)
	st := mem.New()
	o := options(t, kc, st, es.Add(time.Hour))
	o.MaxDLQRatio = 0.1
	_, err := ingest.Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "5 of 10 records") || !strings.Contains(err.Error(), "max_dlq_ratio") {
		t.Fatalf("want a DLQ ratio error, got %v", err)
	}
	if n := len(allCommits(t, st)); n != 0 {
		t.Fatalf("%d commits after a failed run", n)
	}
	o.MaxDLQRatio = 0.6
	sum, err := ingest.Run(ctx, o)
	if err != nil || sum.DLQ != 5 || sum.Rows["orders"] != 5 {
		t.Fatalf("with a higher ratio: %v %+v", err, sum)
	}
}

// An incompatible column type change fails that table — the error names
// table, column and both types — while other tables go on, and nothing
// is lost: the table's records are in the dead-letter queue.
func TestIncompatibleSchemaChange(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	msg := func(table, typ, val string) []byte {
		return []byte(fmt.Sprintf(`{"database":"app","table":%q,"isDdl":false,"type":"INSERT","es":%d,"ts":0,"pkNames":["id"],
			"mysqlType":{"id":"int(11)","code":%q},"data":[{"id":"1","code":%q}],"old":null,"sql":""}`, table, es.UnixMilli(), typ, val))
	}
	produce(t, kc,
		rec(0, msg("a", "int(11)", "5")),
		rec(0, msg("b", "int(11)", "6")),
		rec(0, msg("a", "varchar(10)", "x7")), // ALTER TABLE a MODIFY code varchar(10)
		rec(0, msg("b", "int(11)", "8")),
		rec(0, msg("a", "int(11)", "9")),
	)
	st := mem.New()
	o := options(t, kc, st, es.Add(time.Hour))
	o.MaxDLQRatio = 1
	o.Tables = []config.Table{
		{Name: "a", Match: regexp.MustCompile(`^app\.a$`), Key: []string{"id"}},
		{Name: "b", Match: regexp.MustCompile(`^app\.b$`), Key: []string{"id"}},
	}
	sum, err := ingest.Run(ctx, o)
	if err == nil {
		t.Fatal("run succeeded")
	}
	for _, want := range []string{"table a", "code", "int", "varchar(10)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if sum.Rows["b"] != 2 || sum.Rows["a"] != 1 || sum.DLQ != 2 {
		t.Errorf("rows %v, dead letters %d: want b's 2 rows, a's first row, a's 2 later records in the DLQ", sum.Rows, sum.DLQ)
	}
	if n := len(allCommits(t, st)); n != 1 {
		t.Errorf("%d commits: the other table's rows must be committed", n)
	}
}

// DDL statements are recorded in the commit record, and TRUNCATE becomes a
// truncate row of the physical table at its position, for the merge.
func TestDDLAndTruncate(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	ddl := func(typ, sql string) []byte {
		return []byte(fmt.Sprintf(`{"data":null,"database":"shop_01","es":%d,"id":3,"isDdl":true,"mysqlType":null,"old":null,"pkNames":null,"sql":%q,"sqlType":null,"table":"orders_00","ts":0,"type":%q}`, es.UnixMilli(), sql, typ))
	}
	produce(t, kc,
		rec(0, canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: 1, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)),
		rec(0, ddl("ALTER", "ALTER TABLE orders_00 ADD COLUMN x int")),
		rec(0, ddl("TRUNCATE", "TRUNCATE TABLE orders_00")),
	)
	st := mem.New()
	sum, err := ingest.Run(ctx, options(t, kc, st, es.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	c := allCommits(t, st)[0]
	if len(c.DDL) != 1 || c.DDL[0].SQL != "ALTER TABLE orders_00 ADD COLUMN x int" || c.DDL[0].Offset != 1 {
		t.Errorf("DDL in the commit record: %+v", c.DDL)
	}
	rows := readOps(t, st, c.Files[0].Key)
	if len(rows) != 2 || rows[1] != "truncate shop_01.orders_00 @2" {
		t.Errorf("rows: %v (summary %s)", rows, sum.Line())
	}
}

func readOps(t *testing.T, st storage.Store, key string) []string {
	t.Helper()
	type opRow struct {
		Op     string `parquet:"_op"`
		DB     string `parquet:"_source_db"`
		Table  string `parquet:"_source_table"`
		Offset int64  `parquet:"_kafka_offset"`
	}
	b, err := storage.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.Read[opRow](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s.%s @%d", r.Op, r.DB, r.Table, r.Offset))
	}
	return out
}

// TLS to the brokers, with the CA from kafka.tls.ca_file.
func TestTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	caFile, serverTLS := selfSignedTLS(t, dir)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.TLS(serverTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	es := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.DialTLSConfig(&tls.Config{InsecureSkipVerify: true}), kgo.DefaultProduceTopic(topic)) //nolint:gosec // test producer
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: canalMessage("shop_01", "orders_00", "INSERT", es, []orderRow{{ID: 1, Customer: 1, Cents: 1, Status: 1, Created: es}}, nil)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	o := options(t, kc, mem.New(), es.Add(time.Hour))
	o.Kafka.TLS = config.TLS{Enabled: true, CAFile: caFile}
	sum, err := ingest.Run(ctx, o)
	if err != nil || sum.Records != 1 {
		t.Fatalf("over TLS: %v %+v", err, sum)
	}
	o.Kafka.TLS = config.TLS{Enabled: false}
	o.IdleTimeout = time.Second
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ingest.Run(ctx2, o); err == nil {
		t.Error("plain text to a TLS broker succeeded")
	}
}

// selfSignedTLS writes a CA certificate for 127.0.0.1 and returns its file
// and the server's TLS configuration.
func selfSignedTLS(t *testing.T, dir string) (string, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "binlake test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}
