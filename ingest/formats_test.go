package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/cdc"
	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

// The same four changes — two inserts, an update that changes the key, a
// delete — in every input format, land as the same typed rows.
func TestIngestAllFormats(t *testing.T) {
	es := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	created := "2024-02-29 23:59:59.123456"
	createdMicros := time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC).UnixMicro()
	type row struct {
		id       int
		customer string // decimal text
		amount   string
		status   string
		note     any
	}
	r1 := row{1, "18446744073709551615", "19.99", "new", "first 🎉"}
	r2 := row{2, "7", "-0.05", "paid", nil}
	r10 := row{10, "18446744073709551615", "19.99", "paid", "first 🎉"}
	jsonRow := func(r row) map[string]any {
		return map[string]any{"id": r.id, "customer_id": json.Number(r.customer), "amount": json.Number(r.amount),
			"status": r.status, "note": r.note, "created_at": created}
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	maxwell := func(typ string, r row, old map[string]any, xoffset int) []byte {
		m := map[string]any{"database": "shop_01", "table": "orders_00", "type": typ, "ts": es.Unix(), "xid": 7,
			"xoffset": xoffset, "position": fmt.Sprintf("mysql-bin.000003:%d", 1000+xoffset*100), "primary_key_columns": []string{"id"},
			"data": jsonRow(r)}
		if old != nil {
			m["old"] = old
		}
		return mustJSON(m)
	}
	rowjson := func(op int, r row) []byte {
		m := jsonRow(r)
		m["__op"], m["table_name"], m["database"] = op, "orders_00", "shop_01"
		return mustJSON(m)
	}
	decimalB64 := map[string]string{"19.99": "B88=", "-0.05": "+w=="}
	customerLong := map[string]int64{"18446744073709551615": -1, "7": 7}
	dbzRow := func(r row) map[string]any {
		return map[string]any{"id": r.id, "customer_id": customerLong[r.customer], "amount": decimalB64[r.amount],
			"status": r.status, "note": r.note, "created_at": createdMicros}
	}
	dbzFields := []map[string]any{
		{"type": "int32", "optional": false, "field": "id"},
		{"type": "int64", "optional": false, "field": "customer_id"},
		{"type": "bytes", "optional": false, "name": "org.apache.kafka.connect.data.Decimal", "parameters": map[string]string{"scale": "2", "connect.decimal.precision": "10"}, "field": "amount"},
		{"type": "string", "optional": false, "name": "io.debezium.data.Enum", "parameters": map[string]string{"allowed": "new,paid,shipped"}, "field": "status"},
		{"type": "string", "optional": true, "field": "note"},
		{"type": "int64", "optional": false, "name": "io.debezium.time.MicroTimestamp", "field": "created_at"},
	}
	debezium := func(op string, before, after *row, pos int) []byte {
		var b, a any
		if before != nil {
			b = dbzRow(*before)
		}
		if after != nil {
			a = dbzRow(*after)
		}
		value := map[string]any{"type": "struct", "optional": true, "fields": dbzFields}
		schema := map[string]any{"type": "struct", "fields": []any{
			merge(value, map[string]any{"field": "before"}), merge(value, map[string]any{"field": "after"}),
			map[string]any{"type": "struct", "field": "source", "fields": []any{}},
			map[string]any{"type": "string", "field": "op"},
		}}
		return mustJSON(map[string]any{"schema": schema, "payload": map[string]any{
			"op": op, "ts_ms": es.UnixMilli() + 9, "before": b, "after": a,
			"source": map[string]any{"connector": "mysql", "ts_ms": es.UnixMilli(), "db": "shop_01", "table": "orders_00",
				"file": "mysql-bin.000003", "pos": pos, "row": 0, "snapshot": "false"},
		}})
	}
	formats := map[config.Format][][]byte{
		config.FormatMaxwell: {
			maxwell("insert", r1, nil, 0), maxwell("insert", r2, nil, 1),
			maxwell("update", r10, map[string]any{"id": 1, "status": "new"}, 2), maxwell("delete", r2, nil, 3),
		},
		config.FormatRowJSON: {
			rowjson(0, r1), rowjson(0, r2), rowjson(1, r1), rowjson(0, r10), rowjson(1, r2),
		},
		config.FormatDebezium: {
			debezium("c", nil, &r1, 100), debezium("c", nil, &r2, 200),
			debezium("d", &r1, nil, 300), nil, debezium("c", nil, &r10, 300), debezium("d", &r2, nil, 400), nil,
		},
	}
	// Canal-typed catalog, as binlake snapshot would have written it.
	catalog := warehouse.SchemaVersion{FormatVersion: 1, Version: 1, Reason: "test", Columns: []warehouse.CatalogColumn{
		{Name: "id", Type: "int"}, {Name: "customer_id", Type: "bigint unsigned"}, {Name: "amount", Type: "decimal(10,2)"},
		{Name: "status", Type: "enum('new','paid','shipped')"}, {Name: "note", Type: "varchar(200)"}, {Name: "created_at", Type: "datetime(6)"},
	}}
	want := []string{
		"insert|1|18446744073709551615|19.99|new|first 🎉|2024-02-29T23:59:59.123456",
		"insert|2|7|-0.05|paid|NULL|2024-02-29T23:59:59.123456",
		"delete|1|18446744073709551615|19.99|new|first 🎉|2024-02-29T23:59:59.123456",
		"insert|10|18446744073709551615|19.99|paid|first 🎉|2024-02-29T23:59:59.123456",
		"delete|2|7|-0.05|paid|NULL|2024-02-29T23:59:59.123456",
	}
	for format, msgs := range formats {
		t.Run(string(format), func(t *testing.T) {
			ctx := context.Background()
			kc := startKafka(t, 1)
			var recs []*kgo.Record
			for _, m := range msgs {
				recs = append(recs, rec(0, m)) // nil: a Debezium tombstone
			}
			produce(t, kc, recs...)
			dir := t.TempDir()
			st, err := local.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := warehouse.Marshal(catalog)
			if err := st.PutIfAbsent(ctx, warehouse.CatalogVersionKey("orders", 1), b); err != nil {
				t.Fatal(err)
			}
			o := options(t, kc, st, es.Add(2*time.Hour))
			o.Kafka.Format = format
			o.Kafka.SourceLocation = time.UTC
			sum, err := ingest.Run(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if sum.DLQ != 0 {
				t.Fatalf("%d dead letters", sum.DLQ)
			}
			var paths []string
			for _, f := range committedFiles(t, st) {
				paths = append(paths, "'"+filepath.Join(dir, f.Key)+"'")
			}
			res := duckdbtest.Query(t, fmt.Sprintf(`SELECT concat_ws('|', CASE WHEN _op = 'update' THEN 'insert' ELSE _op END, id, customer_id, amount, status, coalesce(note, 'NULL'), strftime(created_at, '%%Y-%%m-%%dT%%H:%%M:%%S.%%f'))
				FROM read_parquet([%s]) ORDER BY _kafka_offset, _pos, _op`, strings.Join(paths, ",")))
			var got []string
			for _, r := range res.Rows {
				got = append(got, *r[0])
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if format == config.FormatDebezium && sum.Skipped[string(cdc.Tombstone)] != 2 {
				t.Errorf("tombstones skipped: %v", sum.Skipped)
			}
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
