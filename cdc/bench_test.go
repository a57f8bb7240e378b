package cdc

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchCanal is a real-shaped Canal flatMessage of a one-row INSERT into a
// 10-column table, with mysqlType and sqlType as Canal writes them.
const benchCanal = `{"data":[{"id":"1001","user_id":"52","status":"2","amount":"129.90","qty":"3","sku":"SKU-000123",` +
	`"note":"gift wrap","created_at":"2024-05-01 18:30:00","updated_at":"2024-05-01 18:30:05.123","paid":"1"}],` +
	`"database":"shop_3","es":1714559400000,"id":42,"isDdl":false,"mysqlType":{"id":"bigint(20)","user_id":"int(11)",` +
	`"status":"enum('new','paid','shipped')","amount":"decimal(10,2)","qty":"smallint(6)","sku":"varchar(32)",` +
	`"note":"varchar(255)","created_at":"datetime","updated_at":"timestamp(3)","paid":"tinyint(1)"},"old":null,` +
	`"pkNames":["id"],"sql":"","sqlType":{"id":-5,"user_id":4,"status":4,"amount":3,"qty":5,"sku":12,"note":12,` +
	`"created_at":93,"updated_at":93,"paid":-6},"table":"orders_03","ts":1714559400123,"type":"INSERT"}`

// benchCanalSmall is the same row without sqlType and with shorter
// names: about 300 bytes, the low end of what Canal sends for 10 columns.
const benchCanalSmall = `{"data":[{"id":"1001","uid":"52","st":"2","amt":"129.90","qty":"3","sku":"SKU-1","note":"gift",` +
	`"ct":"2024-05-01 18:30:00","ut":"2024-05-01 18:30:05","paid":"1"}],"database":"shop","es":1714559400000,"isDdl":false,` +
	`"mysqlType":{"id":"bigint","uid":"int","st":"enum('a','b')","amt":"decimal(10,2)","qty":"int","sku":"varchar(32)",` +
	`"note":"text","ct":"datetime","ut":"timestamp","paid":"tinyint"},"old":null,"pkNames":["id"],"sql":"","table":"t","type":"INSERT"}`

// benchCanalNarrow and benchCanalNarrowUpdate are shaped as tools/bench
// writes its messages (~378 bytes): three columns, a row image of an
// INSERT and of an UPDATE with the changed columns' old values.
const (
	benchCanalNarrow = `{"data":[{"id":"183","amount":"129.90","updated_at":"2026-12-06 21:14:05"}],"database":"shop_03",` +
		`"es":1796591645000,"id":5032,"isDdl":false,"mysqlType":{"id":"int(11)","amount":"decimal(10,2)","updated_at":"timestamp"},` +
		`"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"amount":3,"updated_at":93},"table":"orders_11",` +
		`"ts":1796591645512,"type":"INSERT"}`
	benchCanalNarrowUpdate = `{"data":[{"id":"183","amount":"131.20","updated_at":"2026-12-06 21:14:07"}],"database":"shop_03",` +
		`"es":1796591647000,"id":5033,"isDdl":false,"mysqlType":{"id":"int(11)","amount":"decimal(10,2)","updated_at":"timestamp"},` +
		`"old":[{"amount":"129.90","updated_at":"2026-12-06 21:14:05"}],"pkNames":["id"],"sql":"","sqlType":{"id":4,"amount":3,"updated_at":93},` +
		`"table":"orders_11","ts":1796591647210,"type":"UPDATE"}`
)

func BenchmarkDecodeCanal(b *testing.B) { benchFormat(b, "canal") }

// BenchmarkJSONValidCanal is the yardstick: encoding/json merely checking
// the same message, building nothing.
func BenchmarkJSONValidCanal(b *testing.B) {
	v := []byte(benchCanal)
	b.SetBytes(int64(len(v)))
	for b.Loop() {
		if !json.Valid(v) {
			b.Fatal("invalid")
		}
	}
}

// The same 10-column INSERT as benchCanal in the other formats, as their
// producers write it (compact JSON, the members in their order).
const (
	// benchDebeziumRow is the after image without a schema (decimal.handling.mode=string).
	benchDebeziumRow = `{"id":1001,"user_id":52,"status":"paid","amount":"129.90","qty":3,"sku":"SKU-000123",` +
		`"note":"gift wrap","created_at":1714588200000,"updated_at":"2024-05-01T10:30:05.123Z","paid":1}`
	benchDebeziumSource = `{"version":"2.7.0.Final","connector":"mysql","name":"dbserver1","ts_ms":1714559400000,"snapshot":"false",` +
		`"db":"shop_3","sequence":null,"table":"orders_03","server_id":223344,"gtid":null,"file":"mysql-bin.000003",` +
		`"pos":4579,"row":0,"thread":7,"query":null}`
	benchDebeziumNoSchema = `{"before":null,"after":` + benchDebeziumRow + `,"source":` + benchDebeziumSource +
		`,"op":"c","ts_ms":1714559400123,"transaction":null}`
	// benchDebeziumUnwrapped is ExtractNewRecordState's row with add.fields=op,source.ts_ms,db,table.
	benchDebeziumUnwrapped = `{"id":1001,"user_id":52,"status":"paid","amount":"129.90","qty":3,"sku":"SKU-000123",` +
		`"note":"gift wrap","created_at":1714588200000,"updated_at":"2024-05-01T10:30:05.123Z","paid":1,` +
		`"__op":"c","__source_ts_ms":1714559400000,"__db":"shop_3","__table":"orders_03","__deleted":"false"}`

	benchMaxwell = `{"database":"shop_3","table":"orders_03","type":"insert","ts":1714559400,"xid":5694,"xoffset":0,` +
		`"position":"mysql-bin.000003:4579","primary_key_columns":["id"],"data":{"id":1001,"user_id":52,"status":"paid",` +
		`"amount":129.90,"qty":3,"sku":"SKU-000123","note":"gift wrap","created_at":"2024-05-01 18:30:00",` +
		`"updated_at":"2024-05-01 18:30:05.123","paid":1}}`
	benchMaxwellUpdate = `{"database":"shop_3","table":"orders_03","type":"update","ts":1714559405,"xid":5695,"commit":true,` +
		`"position":"mysql-bin.000003:4901","primary_key_columns":["id"],"data":{"id":1001,"user_id":52,"status":"shipped",` +
		`"amount":129.90,"qty":3,"sku":"SKU-000123","note":"gift wrap","created_at":"2024-05-01 18:30:00",` +
		`"updated_at":"2024-05-01 18:30:09.480","paid":1},"old":{"status":"paid","updated_at":"2024-05-01 18:30:05.123"}}`

	benchRowjson = `{"id":1001,"user_id":52,"status":"paid","amount":129.90,"qty":3,"sku":"SKU-000123","note":"gift wrap",` +
		`"created_at":"2024-05-01 18:30:00","updated_at":"2024-05-01 18:30:05.123","paid":1,"__op":0,` +
		`"table_name":"orders_03","database":"shop_3"}`
)

// benchDebeziumSchema is the JsonConverter schema (schemas.enable=true)
// of benchDebeziumNoSchema's envelope, with a precise decimal.
func benchDebeziumSchema() string {
	row := func(name string) string {
		return `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},` +
			`{"type":"int32","optional":false,"field":"user_id"},` +
			`{"type":"string","optional":false,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"new,paid,shipped"},"field":"status"},` +
			`{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},` +
			`{"type":"int16","optional":false,"field":"qty"},{"type":"string","optional":false,"field":"sku"},` +
			`{"type":"string","optional":true,"field":"note"},` +
			`{"type":"int64","optional":false,"name":"io.debezium.time.Timestamp","version":1,"field":"created_at"},` +
			`{"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"updated_at"},` +
			`{"type":"int16","optional":false,"field":"paid"}],"optional":true,"name":"dbserver1.shop_3.orders_03.Value","field":"` + name + `"}`
	}
	return `{"type":"struct","fields":[` + row("before") + `,` + row("after") + `,` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},` +
		`{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},` +
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},` +
		`{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"string","optional":true,"field":"table"},` +
		`{"type":"int64","optional":false,"field":"server_id"},{"type":"string","optional":true,"field":"gtid"},{"type":"string","optional":false,"field":"file"},` +
		`{"type":"int64","optional":false,"field":"pos"},{"type":"int32","optional":false,"field":"row"},{"type":"int64","optional":true,"field":"thread"},` +
		`{"type":"string","optional":true,"field":"query"}],"optional":false,"name":"io.debezium.connector.mysql.Source","field":"source"},` +
		`{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},` +
		`{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"field":"transaction"}],` +
		`"optional":false,"name":"dbserver1.shop_3.orders_03.Envelope","version":1}`
}

// benchDebeziumWithSchema is the envelope with its schema: amount is the
// base64 of the unscaled 12990.
var benchDebeziumWithSchema = `{"schema":` + benchDebeziumSchema() + `,"payload":` +
	strings.Replace(benchDebeziumNoSchema, `"amount":"129.90"`, `"amount":"Mr4="`, 1) + `}`

// benchDecode decodes rec, a message of one change, over and over.
func benchDecode(b *testing.B, o Options, rec *Record) {
	dec := newDecoder(b, o)
	var dst []Change
	b.SetBytes(int64(len(rec.Value)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, _, err = dec.Decode(dst[:0], rec); err != nil || len(dst) != 1 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchFormat runs benchDecode on each of benchCases named format/form,
// as sub-benchmark form, or on the one named format.
func benchFormat(b *testing.B, format string) {
	for _, bc := range benchCases(b) {
		if bc.name == format {
			benchDecode(b, bc.o, bc.rec)
		} else if form, ok := strings.CutPrefix(bc.name, format+"/"); ok {
			b.Run(form, func(b *testing.B) { benchDecode(b, bc.o, bc.rec) })
		}
	}
}

func BenchmarkDecodeDebezium(b *testing.B) { benchFormat(b, "debezium") }

func BenchmarkDecodeMaxwell(b *testing.B) { benchFormat(b, "maxwell") }

func BenchmarkDecodeRowjson(b *testing.B) { benchFormat(b, "rowjson") }
