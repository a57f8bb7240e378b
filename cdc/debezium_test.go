package cdc

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

const dbzSource = `{"version":"2.7.0.Final","connector":"mysql","name":"dbserver1","ts_ms":1714559400000,"snapshot":"false",` +
	`"db":"shop","table":"orders","server_id":1,"gtid":null,"file":"mysql-bin.000042","pos":1534,"row":2,"thread":7,"query":null}`

// dbzEnvelope writes a schemas.enable=true create event whose after image
// has the one column c with the given field schema and JSON value.
func dbzEnvelope(fieldSchema, value string) string {
	return `{"schema":{"type":"struct","name":"dbserver1.shop.orders.Envelope","optional":false,"fields":[` +
		`{"type":"struct","field":"before","optional":true,"name":"dbserver1.shop.orders.Value","fields":[` + fieldSchema + `]},` +
		`{"type":"struct","field":"after","optional":true,"name":"dbserver1.shop.orders.Value","fields":[` + fieldSchema + `]},` +
		`{"type":"struct","field":"source","fields":[]},{"type":"string","field":"op"},{"type":"int64","field":"ts_ms","optional":true}]},` +
		`"payload":{"before":null,"after":{"c":` + value + `},"source":` + dbzSource + `,"op":"c","ts_ms":1714559409999}}`
}

// dbzOne decodes a one-column event and returns the column.
func dbzOne(t *testing.T, fieldSchema, value string) Column {
	t.Helper()
	changes := decode(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(fieldSchema, value)))
	return column(t, changes[0].Columns, "c")
}

func b64(b ...byte) string { return `"` + base64.StdEncoding.EncodeToString(b) + `"` }

func decimalField(precision, scale string) string {
	return `{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,` +
		`"parameters":{"scale":"` + scale + `","connect.decimal.precision":"` + precision + `"},"field":"c"}`
}

func TestDebeziumEnvelope(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	rec := record(dbzEnvelope(`{"type":"int32","field":"c"}`, "5"))
	rec.Key = []byte(`{"schema":{"type":"struct","fields":[{"type":"int32","field":"id"}]},"payload":{"id":5}}`)
	c := decode(t, dec, rec)[0]
	if c.Op != Insert || c.Database != "shop" || c.Table != "orders" {
		t.Errorf("got %s %s.%s, want insert shop.orders", c.Op, c.Database, c.Table)
	}
	// source.ts_ms, never the payload's ts_ms.
	if want := time.UnixMilli(1714559400000).UTC(); !c.EventTime.Equal(want) {
		t.Errorf("EventTime = %s, want %s", c.EventTime, want)
	}
	if c.Pos != (Pos{File: 42, Offset: 1534, Row: 2}) {
		t.Errorf("Pos = %+v, want {42 1534 2}", c.Pos)
	}
	if len(c.Key) != 1 || c.Key[0] != "id" {
		t.Errorf("Key = %v, want [id] from the record key", c.Key)
	}
	rec.Key = []byte(`{"id":5,"region":"eu"}`)
	if c := decode(t, dec, rec)[0]; strings.Join(c.Key, ",") != "id,region" {
		t.Errorf("Key = %v, want [id region] from a schemaless key", c.Key)
	}
	rec.Key = []byte(`not json`)
	if c := decode(t, dec, rec)[0]; c.Key != nil {
		t.Errorf("Key = %v, want nil for a key that is not JSON", c.Key)
	}
}

func TestDebeziumOps(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	row := func(v string) string { return `{"id":1,"v":"` + v + `"}` }
	msg := func(op, before, after, snapshot string) string {
		src := strings.Replace(dbzSource, `"snapshot":"false"`, `"snapshot":`+snapshot, 1)
		return `{"before":` + before + `,"after":` + after + `,"source":` + src + `,"op":"` + op + `","ts_ms":1}`
	}
	for _, tc := range []struct {
		op, before, after, snapshot string
		want                        Op
		image, beforeImage          string
	}{
		{"c", "null", row("a"), "false", Insert, "a", ""},
		{"r", "null", row("a"), `"true"`, Insert, "a", ""},
		{"r", "null", row("a"), `true`, Insert, "a", ""}, // old versions: a boolean
		{"r", "null", row("a"), `"last"`, Insert, "a", ""},
		{"u", row("a"), row("b"), "false", Update, "b", "a"},
		{"d", row("a"), "null", "false", Delete, "a", ""},
	} {
		c := decode(t, dec, record(msg(tc.op, tc.before, tc.after, tc.snapshot)))[0]
		if c.Op != tc.want || column(t, c.Columns, "v").Value.S != tc.image {
			t.Errorf("op %s: got %s with v=%s, want %s with v=%q", tc.op, c.Op, column(t, c.Columns, "v").Value, tc.want, tc.image)
		}
		if tc.beforeImage != "" && (len(c.Before) != 2 || column(t, c.Before, "v").Value.S != tc.beforeImage) {
			t.Errorf("op %s: Before = %v, want v=%q", tc.op, c.Before, tc.beforeImage)
		}
		if tc.beforeImage == "" && c.Before != nil {
			t.Errorf("op %s: Before = %v, want nil", tc.op, c.Before)
		}
	}
	c := decode(t, dec, record(`{"source":`+dbzSource+`,"op":"t","ts_ms":1}`))[0]
	if c.Op != Truncate || c.Table != "orders" || c.Columns != nil {
		t.Errorf("truncate: got %+v", c)
	}
	decodeErr(t, dec, record(msg("x", "null", row("a"), "false")), `debezium: op: unknown operation "x"`)
	decodeErr(t, dec, record(msg("d", "null", "null", "false")), "debezium: before: want the row image of op \"d\", got null")
	decodeErr(t, dec, record(strings.Replace(msg("c", "null", row("a"), "false"), "mysql-bin.000042", "mysql-bin", 1)),
		`debezium: source.file: binlog file name "mysql-bin" has no numeric suffix`)
}

func TestDebeziumSkips(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	for _, tc := range []struct {
		name  string
		value []byte
		want  Skip
	}{
		{"tombstone", nil, Tombstone},
		{"tombstone with schema", []byte(`{"schema":null,"payload":null}`), Tombstone},
		{"begin", []byte(`{"status":"BEGIN","id":"x:10","ts_ms":1,"event_count":null,"data_collections":null}`), TxMarker},
		{"end", []byte(`{"status":"END","id":"x:10","ts_ms":2,"event_count":2,"data_collections":[]}`), TxMarker},
		{"heartbeat", []byte(`{"ts_ms":1714559400000}`), Heartbeat},
		{"heartbeat with schema", []byte(`{"schema":{"type":"struct","name":"io.debezium.connector.common.Heartbeat","fields":[{"type":"int64","field":"ts_ms"}]},"payload":{"ts_ms":1}}`), Heartbeat},
		{"schema change without table", []byte(`{"source":` + strings.Replace(dbzSource, `"table":"orders"`, `"table":null`, 1) +
			`,"databaseName":"shop","ddl":"CREATE DATABASE shop","tableChanges":[]}`), SchemaTopic},
	} {
		out, skip, err := dec.Decode(nil, &Record{Topic: "dbserver1", Value: tc.value, Timestamp: testTimestamp})
		if err != nil || skip != tc.want || len(out) != 0 {
			t.Errorf("%s: got %d changes, skip %q, err %v; want skip %q", tc.name, len(out), skip, err, tc.want)
		}
	}
}

func TestDebeziumSchemaChange(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	msg := `{"source":` + strings.Replace(dbzSource, `"table":"orders"`, `"table":"a,b"`, 1) +
		`,"databaseName":"shop","ddl":"DROP TABLE a, b","tableChanges":[]}`
	out := decode(t, dec, record(msg))
	if len(out) != 2 || out[0].Table != "a" || out[1].Table != "b" || out[0].Op != DDL || out[0].SQL != "DROP TABLE a, b" || out[0].Pos != (Pos{File: 42, Offset: 1534, Row: 2}) {
		t.Errorf("got %+v, want DDL of a and b", out)
	}
	msg = `{"source":` + dbzSource + `,"databaseName":"shop","ddl":"ALTER TABLE orders ADD x int",` +
		`"tableChanges":[{"type":"ALTER","id":"\"shop\".\"ord\"\"ers\"","table":{}}]}`
	out = decode(t, dec, record(msg))
	if len(out) != 1 || out[0].Database != "shop" || out[0].Table != `ord"ers` {
		t.Errorf("got %+v, want DDL of shop.ord\"ers", out)
	}
}

func TestDebeziumUnwrapped(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	rec := &Record{Topic: "dbserver1.shop.orders", Offset: 9, Timestamp: testTimestamp}
	for _, tc := range []struct {
		msg  string
		want Op
	}{
		{`{"id":1}`, Update}, // no __op: an upsert
		{`{"id":1,"__op":"c"}`, Insert},
		{`{"id":1,"__op":"r"}`, Insert},
		{`{"id":1,"__op":"u"}`, Update},
		{`{"id":1,"__op":"d","__deleted":"true"}`, Delete},
		{`{"id":1,"__deleted":"true"}`, Delete},
		{`{"id":1,"__deleted":"false"}`, Update},
	} {
		rec.Value = []byte(tc.msg)
		c := decode(t, dec, rec)[0]
		if c.Op != tc.want || c.Database != "shop" || c.Table != "orders" || len(c.Columns) != 1 || c.Columns[0].Name != "id" {
			t.Errorf("%s: got %s %s.%s %v, want %s of shop.orders with only id", tc.msg, c.Op, c.Database, c.Table, c.Columns, tc.want)
		}
		if c.Pos != (Pos{File: 0, Offset: 9, Row: 0}) || !c.EventTime.Equal(testTimestamp) {
			t.Errorf("%s: Pos %+v, EventTime %s; want the Kafka offset and timestamp", tc.msg, c.Pos, c.EventTime)
		}
	}
	rec.Value = []byte(`{"id":1,"__op":"u","__db":"s3","__table":"o7","__source_ts_ms":1714559400000,"__source_file":"mysql-bin.000042","__source_pos":1534,"__source_row":1,"__ts_ms":1714559409999}`)
	c := decode(t, dec, rec)[0]
	if c.Database != "s3" || c.Table != "o7" || c.Pos != (Pos{File: 42, Offset: 1534, Row: 1}) || !c.EventTime.Equal(time.UnixMilli(1714559400000)) || len(c.Columns) != 1 {
		t.Errorf("metadata fields: got %+v", c)
	}
	// With a schema (schemas.enable=true after ExtractNewRecordState).
	rec.Value = []byte(`{"schema":{"type":"struct","name":"dbserver1.shop.orders.Value","fields":[` +
		`{"type":"int64","field":"id"},{"type":"int32","name":"io.debezium.time.Date","field":"d"},{"type":"string","field":"__op"}]},` +
		`"payload":{"id":1,"d":19844,"__op":"c"}}`)
	c = decode(t, dec, rec)[0]
	if c.Op != Insert || len(c.Columns) != 2 {
		t.Fatalf("with schema: got %+v", c)
	}
	wantValue(t, column(t, c.Columns, "d"), schema.DateDays(19844))
	if typ := column(t, c.Columns, "id").Type; typ.Kind != schema.Unknown {
		t.Errorf("id Type = %s, want unknown (int64 says nothing of signedness)", typ)
	}

	rec.Topic = "orders"
	rec.Value = []byte(`{"id":1}`)
	decodeErr(t, dec, rec, `debezium: no database and table in the record and topic "orders" is not <prefix>.<db>.<table>`)
	rec.Topic = "dbserver1.shop.orders"
	rec.Value = []byte(`{"id":1,"__op":"x"}`)
	decodeErr(t, dec, rec, `debezium: __op: unknown operation "x"`)
	rec.Value = []byte(`{"id":1,"__op":0}`)
	decodeErr(t, dec, rec, `not a debezium change event:`, `(looks like rowjson)`)
}

func TestDebeziumSchemaless(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	msg := `{"before":null,"after":{"i":-5,"big":18446744073709551615,"huge":123456789012345678901234567890,` +
		`"d":12.30,"e":1.5e3,"s":"x","b":true,"n":null,"o":{"a": [1, 2]}},"source":` + dbzSource + `,"op":"c"}`
	cols := decode(t, dec, record(msg))[0].Columns
	wantValue(t, column(t, cols, "i"), schema.IntValue(-5))
	wantValue(t, column(t, cols, "big"), schema.UintValue(18446744073709551615))
	wantValue(t, column(t, cols, "huge"), schema.DecimalValue("123456789012345678901234567890"))
	wantValue(t, column(t, cols, "d"), schema.DecimalValue("12.30"))
	wantValue(t, column(t, cols, "e"), schema.DecimalValue("1500"))
	wantValue(t, column(t, cols, "s"), schema.StringValue("x"))
	wantValue(t, column(t, cols, "b"), schema.BoolValue(true))
	wantValue(t, column(t, cols, "n"), schema.NullValue())
	wantValue(t, column(t, cols, "o"), schema.StringValue(`{"a":[1,2]}`))
	for _, c := range cols {
		if c.Type.Kind != schema.Unknown {
			t.Errorf("%s: Type %s without a schema", c.Name, c.Type)
		}
	}
}

func TestDebeziumDecimal(t *testing.T) {
	for _, tc := range []struct {
		precision, scale string
		unscaled         []byte
		want             string
	}{
		{"10", "2", []byte{0xCF, 0xC7}, "-123.45"}, // -12345
		{"10", "2", []byte{0x30, 0x39}, "123.45"},
		{"10", "2", []byte{0x00}, "0.00"},
		{"10", "3", []byte{0xFB}, "-0.005"},
		{"10", "0", []byte{0x01}, "1"},
		{"10", "0", []byte{0xFF}, "-1"},
		{"20", "0", []byte{0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "18446744073709551615"},             // bigint unsigned, precise
		{"65", "30", append([]byte{0x80}, make([]byte, 19)...), "-730750818665451459.101842416358141509827966271488"}, // -2^159
	} {
		c := dbzOne(t, decimalField(tc.precision, tc.scale), b64(tc.unscaled...))
		if c.Value.Kind != schema.DecimalV || c.Value.S != tc.want {
			t.Errorf("%x scale %s = %s %q, want %q", tc.unscaled, tc.scale, c.Value.Kind, c.Value.S, tc.want)
		}
		if c.Type.Kind != schema.Decimal || itoa(c.Type.Precision) != tc.precision || itoa(c.Type.Scale) != tc.scale {
			t.Errorf("Type = %s, want decimal(%s,%s)", c.Type, tc.precision, tc.scale)
		}
	}
	decodeErr(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(decimalField("10", "2"), `"!!"`)),
		"debezium: after.c: want a base64 decimal, got string")
	decodeErr(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(decimalField("10", "x"), `"AA=="`)),
		`debezium: schema.c: decimal without a valid scale parameter: "x"`)
}

func TestDebeziumTemporal(t *testing.T) {
	at := time.Date(2024, 5, 1, 18, 30, 0, 123456000, time.UTC)
	field := func(typ, name string) string {
		return `{"type":"` + typ + `","optional":true,"name":"` + name + `","version":1,"field":"c"}`
	}
	// DATETIME(0–3) arrives as epoch ms, DATETIME(4–6) as epoch µs; both are wall clocks.
	c := dbzOne(t, field("int64", "io.debezium.time.Timestamp"), itoa(int(at.UnixMilli())))
	wantValue(t, c, schema.DateTimeMicros(at.UnixMilli()*1000))
	if c.Type.Kind != schema.DateTime {
		t.Errorf("Type = %s, want datetime", c.Type)
	}
	wantValue(t, dbzOne(t, field("int64", "io.debezium.time.MicroTimestamp"), itoa(int(at.UnixMicro()))), schema.DateTimeMicros(at.UnixMicro()))
	wantValue(t, dbzOne(t, field("int64", "io.debezium.time.NanoTimestamp"), itoa(int(at.UnixNano()))), schema.DateTimeMicros(at.UnixMicro()))
	wantValue(t, dbzOne(t, field("int64", "org.apache.kafka.connect.data.Timestamp"), itoa(int(at.UnixMilli()))), schema.DateTimeMicros(at.UnixMilli()*1000))
	wantValue(t, dbzOne(t, field("int64", "io.debezium.time.NanoTimestamp"), "-1"), schema.DateTimeMicros(-1))

	// TIMESTAMP: ISO-8601 with 0 to 9 fraction digits.
	for in, want := range map[string]time.Time{
		`"2024-05-01T18:30:00Z"`:           time.Date(2024, 5, 1, 18, 30, 0, 0, time.UTC),
		`"2024-05-01T18:30:00.1Z"`:         time.Date(2024, 5, 1, 18, 30, 0, 100e6, time.UTC),
		`"2024-05-01T18:30:00.123456Z"`:    time.Date(2024, 5, 1, 18, 30, 0, 123456e3, time.UTC),
		`"2024-05-01T18:30:00.123456789Z"`: time.Date(2024, 5, 1, 18, 30, 0, 123456e3, time.UTC),
		`"2024-05-01T18:30:00+08:00"`:      time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC),
	} {
		c := dbzOne(t, field("string", "io.debezium.time.ZonedTimestamp"), in)
		wantValue(t, c, schema.TimestampMicros(want.UnixMicro()))
		if c.Type.Kind != schema.Timestamp {
			t.Errorf("Type = %s, want timestamp", c.Type)
		}
	}
	decodeErr(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(field("string", "io.debezium.time.ZonedTimestamp"), `"2024-05-01 18:30:00"`)),
		"debezium: after.c: want an ISO-8601 timestamp with an offset")

	wantValue(t, dbzOne(t, field("int32", "io.debezium.time.Date"), "-1"), schema.DateDays(-1))
	wantValue(t, dbzOne(t, field("int32", "org.apache.kafka.connect.data.Date"), "19844"), schema.DateDays(19844))
	const maxTime = (838*3600 + 59*60 + 59) * 1_000_000
	wantValue(t, dbzOne(t, field("int64", "io.debezium.time.MicroTime"), itoa(-maxTime)), schema.TimeMicros(-maxTime))
	wantValue(t, dbzOne(t, field("int32", "io.debezium.time.Time"), "3723004"), schema.TimeMicros(3723004000))
	wantValue(t, dbzOne(t, field("int64", "io.debezium.time.NanoTime"), "3723004000001"), schema.TimeMicros(3723004000))
	wantValue(t, dbzOne(t, field("int32", "io.debezium.time.Year"), "2024"), schema.IntValue(2024))
}

func TestDebeziumOtherTypes(t *testing.T) {
	c := dbzOne(t, `{"type":"string","name":"io.debezium.data.Enum","parameters":{"allowed":"new,paid"},"field":"c"}`, `"paid"`)
	wantValue(t, c, schema.StringValue("paid"))
	if c.Type.Kind != schema.Enum || strings.Join(c.Type.Labels, "|") != "new|paid" {
		t.Errorf("Type = %s, want enum('new','paid')", c.Type)
	}
	c = dbzOne(t, `{"type":"string","name":"io.debezium.data.EnumSet","parameters":{"allowed":"a,b,c"},"field":"c"}`, `"a,c"`)
	wantValue(t, c, schema.StringValue("a,c"))
	if c.Type.Kind != schema.Set {
		t.Errorf("Type = %s, want set", c.Type)
	}
	c = dbzOne(t, `{"type":"string","name":"io.debezium.data.Json","field":"c"}`, `"{\"a\":1}"`)
	wantValue(t, c, schema.StringValue(`{"a":1}`))
	if c.Type.Kind != schema.JSON {
		t.Errorf("Type = %s, want json", c.Type)
	}
	c = dbzOne(t, `{"type":"bytes","name":"io.debezium.data.Bits","parameters":{"length":"10"},"field":"c"}`, b64(0x01, 0x02))
	wantValue(t, c, schema.IntValue(513)) // little-endian
	if c.Type.Kind != schema.Bit || c.Type.Precision != 10 {
		t.Errorf("Type = %s, want bit(10)", c.Type)
	}
	wantValue(t, dbzOne(t, `{"type":"bytes","name":"io.debezium.data.Bits","parameters":{"length":"64"},"field":"c"}`,
		b64(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), schema.UintValue(18446744073709551615))
	wantValue(t, dbzOne(t, `{"type":"bytes","field":"c"}`, b64(0, 0xff, 0x80)), schema.BytesValue([]byte{0, 0xff, 0x80}))
	wantValue(t, dbzOne(t, `{"type":"boolean","field":"c"}`, "true"), schema.BoolValue(true))
	wantValue(t, dbzOne(t, `{"type":"double","field":"c"}`, "0.1"), schema.FloatValue(0.1))
	wantValue(t, dbzOne(t, `{"type":"float","field":"c"}`, `"NaN"`), schema.FloatValue(nan()))
	wantValue(t, dbzOne(t, `{"type":"string","field":"c"}`, `"x"`), schema.StringValue("x"))
	for typ, kind := range map[string]schema.Kind{"int8": schema.TinyInt, "int16": schema.SmallInt, "int32": schema.Int, "int64": schema.Unknown} {
		c := dbzOne(t, `{"type":"`+typ+`","field":"c"}`, "-7")
		wantValue(t, c, schema.IntValue(-7))
		if c.Type.Kind != kind {
			t.Errorf("%s: Type = %s, want %s", typ, c.Type, kind)
		}
	}
	// column.propagate.source.type names the declared type.
	c = dbzOne(t, `{"type":"int16","parameters":{"__debezium.source.column.type":"TINYINT UNSIGNED","__debezium.source.column.length":"3"},"field":"c"}`, "200")
	if c.Type.Kind != schema.TinyInt || !c.Type.Unsigned {
		t.Errorf("Type = %s, want tinyint unsigned", c.Type)
	}
	wantValue(t, dbzOne(t, `{"type":"int32","field":"c"}`, "null"), schema.NullValue())
	decodeErr(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(`{"type":"int32","field":"c"}`, `"5"`)),
		`debezium: after.c: want an integer, got string "\"5\""`)
	decodeErr(t, newDecoder(t, Options{Format: "debezium"}), record(dbzEnvelope(`{"type":"int32","field":"c"}`, `1.5`)),
		`debezium: after.c: want an integer, got number "1.5"`)
}

func TestDebeziumSchemaCache(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"}).(*debeziumDecoder)
	msg := dbzEnvelope(`{"type":"int32","field":"c"}`, "1")
	for i := 0; i < 3; i++ {
		decode(t, dec, record(msg))
	}
	if len(dec.schemas) != 1 {
		t.Errorf("%d cached schemas, want 1", len(dec.schemas))
	}
	// A different schema for the same table is parsed anew.
	c := decode(t, dec, record(dbzEnvelope(`{"type":"int16","field":"c"}`, "1")))[0].Columns[0]
	if c.Type.Kind != schema.SmallInt {
		t.Errorf("Type = %s after a schema change, want smallint", c.Type)
	}
	// Each message is decoded with its own schema, whether it repeats the
	// one before (found without a look-up) or not, also after a message
	// that fails once its schema was read.
	kinds := map[string]schema.Kind{"int8": schema.TinyInt, "int16": schema.SmallInt, "int32": schema.Int}
	for _, typ := range []string{"int8", "int8", "int16", "int8", "bad", "int16", "int16", "bad", "int32", "int32"} {
		if typ == "bad" { // a schema of int16, then junk
			decodeErr(t, dec, record(dbzEnvelope(`{"type":"int16","field":"c"}`, "1")+"x"), "invalid JSON")
			continue
		}
		c := decode(t, dec, record(dbzEnvelope(`{"type":"`+typ+`","field":"c"}`, "1")))[0].Columns[0]
		if c.Type.Kind != kinds[typ] {
			t.Errorf("Type = %s for a schema of %s", c.Type, typ)
		}
	}
}

// TestDebeziumRepeatedMembers: of a member named twice, the first counts,
// in the payload, the source and the unwrapped row's metadata; of
// __db and __source_db (__table and __source_table) the one named last.
func TestDebeziumRepeatedMembers(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	c := decode(t, dec, record(`{"op":"c","op":"d","source":{"db":"a","db":"b","table":"t","ts_ms":1000,"ts_ms":2000,`+
		`"file":"mysql-bin.000001","file":"mysql-bin.000002","pos":4,"pos":5,"row":1,"row":2},"after":{"id":1},"after":{"id":2}}`))[0]
	if c.Op != Insert || c.Database != "a" || c.Table != "t" || c.EventTime.UnixMilli() != 1000 || c.Pos != (Pos{File: 1, Offset: 4, Row: 1}) {
		t.Errorf("envelope: got %+v", c)
	}
	wantValue(t, column(t, c.Columns, "id"), schema.IntValue(1))
	c = decode(t, dec, record(`{"id":1,"__db":"a","__db":"b","__table":"t","__source_table":"u","__source_table":"v",`+
		`"__source_ts_ms":1000,"__source_ts_ms":2000,"__source_file":"mysql-bin.000001","__source_file":"mysql-bin.000002",`+
		`"__source_pos":4,"__source_pos":5,"__source_row":1,"__source_row":2,"__deleted":"false","__deleted":"true"}`))[0]
	if c.Op != Update || c.Database != "a" || c.Table != "u" || c.EventTime.UnixMilli() != 1000 || c.Pos != (Pos{File: 1, Offset: 4, Row: 1}) || len(c.Columns) != 1 {
		t.Errorf("unwrapped: got %+v", c)
	}
}

// TestDebeziumColumnTwice: a column named twice is an error, with or
// without a schema, in the schema's order or not, also where the schema
// names a field twice.
func TestDebeziumColumnTwice(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	two := `{"type":"int32","field":"a"},{"type":"int32","field":"b"}`
	for _, tc := range []struct{ fields, after string }{
		{two, `{"a":1,"b":2,"a":3}`},
		{two, `{"a":1,"a":3}`},
		{two, `{"b":1,"a":2,"b":3}`},
		{two + `,{"type":"int32","field":"a"}`, `{"a":1,"b":2,"a":3}`},
		{two, `{"a":1,"x":2,"x":3}`},
	} {
		msg := strings.Replace(dbzEnvelope(tc.fields, "1"), `{"c":1}`, tc.after, 1)
		decodeErr(t, dec, record(msg), "after.", "column appears twice")
	}
	decodeErr(t, dec, record(`{"before":null,"after":{"a":1,"a":2},"source":`+dbzSource+`,"op":"c"}`), "after.a: column appears twice")
	// In order, each once: no error.
	c := decode(t, dec, record(strings.Replace(dbzEnvelope(two, "1"), `{"c":1}`, `{"a":1,"b":2}`, 1)))[0]
	if len(c.Columns) != 2 {
		t.Errorf("got %v", c.Columns)
	}
}

// unscaledDecimalByStrings is unscaledDecimal as it was, with strings:
// the reference of the one that builds its text in buffers.
func unscaledDecimalByStrings(b []byte, scale int) string {
	var s string
	switch {
	case len(b) == 0:
		s = "0"
	case len(b) <= 8:
		v := int64(int8(b[0]))
		for _, c := range b[1:] {
			v = v<<8 | int64(c)
		}
		s = strconv.FormatInt(v, 10)
	default:
		v := new(big.Int).SetBytes(b)
		if b[0]&0x80 != 0 {
			v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		s = v.String()
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	switch {
	case scale < 0:
		if s != "0" {
			s += strings.Repeat("0", -scale)
		}
	case scale > 0:
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func TestUnscaledDecimalRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dec := newDecoder(t, Options{Format: "debezium"}).(*debeziumDecoder)
	for i := range 200000 {
		b := make([]byte, r.IntN(24))
		for j := range b {
			switch r.IntN(4) {
			case 0:
				b[j] = 0
			case 1:
				b[j] = 0xff
			default:
				b[j] = byte(r.Uint32())
			}
		}
		scale := r.IntN(40) - 8
		if i%100 == 0 {
			scale = r.IntN(2001) - 1000
		}
		if got, want := unscaledDecimal(b, scale), unscaledDecimalByStrings(b, scale); got != want {
			t.Fatalf("unscaledDecimal(%x, %d) = %s, want %s", b, scale, got, want)
		}
		// unbase64 decodes as DecodeString does, valid text or not.
		text := base64.StdEncoding.EncodeToString(b)
		if i%3 == 0 && text != "" {
			k := r.IntN(len(text))
			text = text[:k] + string("A=*\n"[r.IntN(4)]) + text[k+1:]
		}
		got, err := dec.unbase64(text)
		want, wantErr := base64.StdEncoding.DecodeString(text)
		if (err == nil) != (wantErr == nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("unbase64(%q) = %x, %v; want %x, %v", text, got, err, want, wantErr)
		}
	}
}

// TestDebeziumBinlogMemberErrors: an event time or binlog position member
// that cannot be read is named in the error as the message names it.
func TestDebeziumBinlogMemberErrors(t *testing.T) {
	dec := newDecoder(t, Options{Format: "debezium"})
	unwrapped := strings.NewReplacer(`"ts_ms"`, `"__source_ts_ms"`, `"file"`, `"__source_file"`, `"pos"`, `"__source_pos"`, `"row"`, `"__source_row"`)
	for _, tc := range []struct{ members, field, want string }{
		{`"ts_ms":true`, "ts_ms", "want an integer, got boolean"},
		{`"file":1`, "file", "want a binlog file name, got number"},
		{`"file":"mysql-bin.000001","pos":"x"`, "pos", `want an integer, got "x"`},
		{`"row":{}`, "row", "want an integer, got object"},
	} {
		for _, msg := range []struct{ value, field string }{
			{`{"op":"c","source":{"db":"a","table":"t",` + tc.members + `},"after":{"id":1}}`, "source." + tc.field},
			{`{"source":{"db":"a","table":"t",` + tc.members + `},"ddl":"CREATE TABLE t (id int)","databaseName":"a"}`, "source." + tc.field},
			{`{"id":1,"__op":"c","__db":"a","__table":"t",` + unwrapped.Replace(tc.members) + `}`,
				"__source_" + tc.field},
		} {
			decodeErr(t, dec, record(msg.value), "debezium: "+msg.field+": "+tc.want)
		}
	}
}
