package cdc

import (
	"fmt"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

// Fuzz targets: no input may panic a decoder; on error dst comes back
// unchanged; on success every change is well formed, and decoding the
// same input again (with the decoder's caches warm) gives the same result.

func FuzzDecodeCanal(f *testing.F)    { fuzzDecode(f, "canal") }
func FuzzDecodeDebezium(f *testing.F) { fuzzDecode(f, "debezium") }
func FuzzDecodeMaxwell(f *testing.F)  { fuzzDecode(f, "maxwell") }
func FuzzDecodeRowjson(f *testing.F)  { fuzzDecode(f, "rowjson") }

// handWritten are seeds beyond the fixtures: the quirks the unit tests
// exercise, one message each.
var handWritten = map[string][]string{
	"canal": {
		canalMessage("INSERT", []canalCol{
			{"e", "enum('a','b')", "2"}, {"s", "set('a','b')", "3"}, {"b", "blob", "\u00ff\u0080"}, {"ts", "timestamp(6)", "2024-01-01 08:00:00.5"},
			{"t", "time", "-838:59:59.000000"}, {"z", "date", "0000-00-00"}, {"u", "bigint unsigned", "18446744073709551615"},
			{"d", "decimal(10,2)", "-1.5E+3"}, {"g", "geometry", "\u0001"}, {"bit", "bit(3)", "5"},
		}, nil),
		canalMessage("UPDATE", []canalCol{{"id", "int", "1"}, {"v", "varchar(3)", "x"}}, map[string]any{"v": "y"}),
	},
	"debezium": {
		dbzEnvelope(decimalField("10", "2"), b64(0xCF, 0xC7)),
		dbzEnvelope(`{"type":"string","name":"io.debezium.time.ZonedTimestamp","field":"c"}`, `"2024-05-01T18:30:00.123456789Z"`),
		dbzEnvelope(`{"type":"bytes","name":"io.debezium.data.Bits","parameters":{"length":"10"},"field":"c"}`, b64(1, 2)),
		dbzEnvelope(`{"type":"struct","name":"io.debezium.data.VariableScaleDecimal","field":"c"}`, `{"scale":2,"value":"AQ=="}`),
		dbzEnvelope(`{"type":"struct","name":"io.debezium.data.geometry.Point","field":"c"}`, `{"wkb":"AQ==","srid":4326}`),
		`{"id":1,"__op":"d","__deleted":"true","__db":"s","__table":"t","__source_file":"mysql-bin.000001","__source_pos":4,"__source_ts_ms":1}`,
		`{"status":"BEGIN","id":"x","event_count":null}`,
		`{"schema":null,"payload":null}`,
	},
	"maxwell": {
		`{"database":"d","table":"t","type":"update","ts":1,"xoffset":1,"position":"mysql-bin.000042:1534","primary_key_columns":["id"],"data":{"id":18446744073709551615,"s":["a","b"],"j":{"a":[1]}},"old":{"s":[]}}`,
		`{"database":"d","type":"database-create","ts":1714559402000,"sql":"CREATE DATABASE d"}`,
	},
	"rowjson": {
		`{"id":1,"__op":0,"table_name":"t","database":"d","updated_at":"2024-05-01 18:30:00.250"}`,
		`{"id":1,"__op":1,"updated_at":1714559400000}`,
	},
}

func fuzzDecode(f *testing.F, format string) {
	o := goldenOptions(f, format)
	if len(o.AESKeys) == 0 {
		o.AESKeys = [][]byte{testKey}
	}
	var seeds []string
	for _, fx := range loadFixtures(f, format) {
		for _, v := range fx.values {
			seeds = append(seeds, string(v))
		}
	}
	seeds = append(seeds, handWritten[format]...)
	for _, s := range seeds {
		f.Add(s)
		if sealed, err := Seal(o.AESKeys[0], []byte(s)); err == nil {
			f.Add(string(sealed))
		}
	}
	dec := newDecoder(f, o)
	f.Fuzz(func(t *testing.T, value string) {
		sentinel := Change{Op: DDL, SQL: "sentinel"}
		rec := &Record{Topic: "dbserver1.shop.orders", Offset: 5, Value: []byte(value), Timestamp: testTimestamp, Key: []byte(`{"id":1}`)}
		out, skip, err := dec.Decode([]Change{sentinel}, rec)
		if format == "canal" {
			checkCanalScan(t, dec, o, rec)
		}
		if err != nil {
			if len(out) != 1 || out[0].SQL != "sentinel" {
				t.Fatalf("error %v, but dst came back with %d changes", err, len(out))
			}
			if skip != NotSkipped {
				t.Fatalf("error %v with skip %q", err, skip)
			}
			return
		}
		if skip != NotSkipped && len(out) != 1 {
			t.Fatalf("skip %q with %d changes", skip, len(out)-1)
		}
		var first strings.Builder
		for _, c := range out[1:] {
			checkChange(t, c)
			first.WriteString(renderChange(c))
		}
		again, skip2, err2 := dec.Decode(nil, rec)
		var second strings.Builder
		for _, c := range again {
			second.WriteString(renderChange(c))
		}
		if err2 != nil || skip2 != skip || first.String() != second.String() {
			t.Fatalf("decoding twice differs: %v %q\n%s\nthen\n%s", err2, skip2, first.String(), second.String())
		}
		// A decoder remembers things of the messages before (types,
		// keys, date texts): a new one must decode the same.
		fresh, skip3, err3 := newDecoder(t, o).Decode(nil, rec)
		var third strings.Builder
		for _, c := range fresh {
			third.WriteString(renderChange(c))
		}
		if err3 != nil || skip3 != skip || first.String() != third.String() {
			t.Fatalf("a new decoder decodes differently: %v %q\n%s\nthen\n%s", err3, skip3, first.String(), third.String())
		}
		// Row images carved into the caller's arena decode the same and
		// stay as they are through the decodes after.
		var arena []Column
		carver := newDecoder(t, o)
		carver.CarveColumnsFrom(&arena)
		carved, skip4, err4 := carver.Decode(nil, rec)
		for range 3 {
			if _, _, err := carver.Decode(nil, rec); err != nil {
				t.Fatalf("decoding again into the arena: %v", err)
			}
		}
		var fourth strings.Builder
		for _, c := range carved {
			fourth.WriteString(renderChange(c))
		}
		if err4 != nil || skip4 != skip || first.String() != fourth.String() {
			t.Fatalf("decoding into the caller's arena differs: %v %q\n%s\nthen\n%s", err4, skip4, first.String(), fourth.String())
		}
	})
}

func checkChange(t *testing.T, c Change) {
	t.Helper()
	if c.Op < Insert || c.Op > DDL {
		t.Fatalf("op %d", c.Op)
	}
	if (c.Op == Truncate || c.Op == DDL) && (c.Columns != nil || c.Before != nil) {
		t.Fatalf("%s with columns", c.Op)
	}
	if c.Op != Update && c.Before != nil {
		t.Fatalf("%s with a before image", c.Op)
	}
	for _, cols := range [][]Column{c.Columns, c.Before} {
		for _, col := range cols {
			v := col.Value
			switch {
			case v.Kind > schema.TimeV:
				t.Fatalf("%s: value kind %d", col.Name, v.Kind)
			case v.Kind == schema.BoolV && v.I != 0 && v.I != 1:
				t.Fatalf("%s: bool %d", col.Name, v.I)
			case v.Kind == schema.UintV && v.U <= 1<<63-1:
				t.Fatalf("%s: UintV %d fits an int64", col.Name, v.U)
			case v.Kind == schema.TimeV && (v.I > schema.MaxTimeMicros || v.I < -schema.MaxTimeMicros):
				t.Fatalf("%s: time %d out of range", col.Name, v.I)
			case v.Kind == schema.DecimalV:
				if _, ok := plainDecimal(v.S); !ok || strings.ContainsAny(v.S, "eE+") {
					t.Fatalf("%s: decimal %q is not plain", col.Name, v.S)
				}
			case col.ZeroDate && v.Kind != schema.Null:
				t.Fatalf("%s: zero date with value %s", col.Name, v)
			}
		}
	}
}

// checkCanalScan checks that a Canal message decodes the same through
// scan, by dec (which remembers the messages before), as through the
// whole parse (decodeDOM): the same changes, or the same error.
func checkCanalScan(t *testing.T, dec Decoder, o Options, rec *Record) {
	t.Helper()
	render := func(out []Change, skip Skip, err error) string {
		var b strings.Builder
		fmt.Fprintf(&b, "skip %q, error %v\n", skip, err)
		for _, c := range out {
			b.WriteString(renderChange(c))
		}
		return b.String()
	}
	fast := render(dec.Decode(nil, rec))
	dom := newDecoder(t, o).(*canalDecoder)
	out, skip, err := dom.decodeDOM(nil, rec)
	if slow := render(settle(nil, out, skip, err)); fast != slow {
		t.Fatalf("message %q: through scan\n%s\nparsed whole\n%s", rec.Value, fast, slow)
	}
}
