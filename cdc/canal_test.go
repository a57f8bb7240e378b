package cdc

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

// canalCol is one column of a hand-written Canal message: its mysqlType
// and its value as Canal writes it (a string, or nil for null).
type canalCol struct {
	name, mysqlType string
	value           any
}

// canalMessage writes a one-row flatMessage of type typ.
func canalMessage(typ string, cols []canalCol, old map[string]any) string {
	var data, types strings.Builder
	for i, c := range cols {
		if i > 0 {
			data.WriteByte(',')
			types.WriteByte(',')
		}
		n, _ := json.Marshal(c.name)
		v, _ := json.Marshal(c.value)
		t, _ := json.Marshal(c.mysqlType)
		data.Write(n)
		data.WriteByte(':')
		data.Write(v)
		types.Write(n)
		types.WriteByte(':')
		types.Write(t)
	}
	oldJSON := "null"
	if old != nil {
		b, _ := json.Marshal([]map[string]any{old})
		oldJSON = string(b)
	}
	return `{"data":[{` + data.String() + `}],"database":"shop","es":1714559400000,"id":1,"isDdl":false,` +
		`"mysqlType":{` + types.String() + `},"old":` + oldJSON + `,"pkNames":["id"],"sql":"",` +
		`"table":"orders","ts":1714559400999,"type":"` + typ + `"}`
}

// canalOne decodes a one-column INSERT and returns the column.
func canalOne(t *testing.T, o Options, mysqlType string, value any) Column {
	t.Helper()
	o.Format = "canal"
	changes := decode(t, newDecoder(t, o), record(canalMessage("INSERT", []canalCol{{"c", mysqlType, value}}, nil)))
	return column(t, changes[0].Columns, "c")
}

func canalOneErr(t *testing.T, mysqlType string, value any, wants ...string) {
	t.Helper()
	decodeErr(t, newDecoder(t, Options{Format: "canal"}), record(canalMessage("INSERT", []canalCol{{"c", mysqlType, value}}, nil)), wants...)
}

func TestCanalChange(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	msg := canalMessage("UPDATE", []canalCol{{"id", "int(11)", "1"}, {"name", "varchar(10)", "new"}, {"qty", "int(11)", "3"}},
		map[string]any{"name": "old", "gone": "x"})
	changes := decode(t, dec, record(msg))
	if len(changes) != 1 {
		t.Fatalf("%d changes, want 1", len(changes))
	}
	c := changes[0]
	if c.Op != Update || c.Database != "shop" || c.Table != "orders" {
		t.Errorf("got %s %s.%s, want update shop.orders", c.Op, c.Database, c.Table)
	}
	if want := time.UnixMilli(1714559400000).UTC(); !c.EventTime.Equal(want) {
		t.Errorf("EventTime = %s, want es %s (not ts)", c.EventTime, want)
	}
	if c.Pos != (Pos{File: 0, Offset: 7, Row: 0}) {
		t.Errorf("Pos = %+v, want the Kafka offset", c.Pos)
	}
	if len(c.Key) != 1 || c.Key[0] != "id" {
		t.Errorf("Key = %v, want [id]", c.Key)
	}
	// old holds the changed columns only: Before is the after image with
	// them replaced, plus any old column the after image lacks.
	var before []string
	for _, col := range c.Before {
		before = append(before, col.Name+"="+col.Value.String())
	}
	if got, want := strings.Join(before, " "), `id=1 name="old" qty=3 gone="x"`; got != want {
		t.Errorf("Before = %s, want %s", got, want)
	}
}

func TestCanalIntegers(t *testing.T) {
	wantValue(t, canalOneCol(t, "bigint(20) unsigned", "18446744073709551615"), schema.UintValue(18446744073709551615))
	wantValue(t, canalOneCol(t, "bigint(20) unsigned", "9223372036854775807"), schema.IntValue(9223372036854775807))
	wantValue(t, canalOneCol(t, "bigint(20)", "-9223372036854775808"), schema.IntValue(-9223372036854775808))
	wantValue(t, canalOneCol(t, "tinyint(1)", "1"), schema.IntValue(1))
	wantValue(t, canalOneCol(t, "year(4)", "2024"), schema.IntValue(2024))
	wantValue(t, canalOneCol(t, "bit(1)", "1"), schema.IntValue(1))
	wantValue(t, canalOneCol(t, "bit(64)", "18446744073709551615"), schema.UintValue(18446744073709551615))
	c := canalOneCol(t, "int(10) unsigned zerofill", "42")
	if c.Type.Kind != schema.Int || !c.Type.Unsigned {
		t.Errorf("Type = %s, want int unsigned", c.Type)
	}
	canalOneErr(t, "bigint(20)", "12x", "canal: data[0].c: invalid bigint", `"12x"`)
	canalOneErr(t, "bigint(20) unsigned", "18446744073709551616", "invalid bigint")
}

func canalOneCol(t *testing.T, mysqlType string, value any) Column {
	t.Helper()
	return canalOne(t, Options{}, mysqlType, value)
}

func TestCanalDecimalAndFloat(t *testing.T) {
	for in, want := range map[string]string{
		"12.30":                           "12.30",
		"-0.50":                           "-0.50",
		"12345678901234567890.1234567890": "12345678901234567890.1234567890",
		"1E+3":                            "1000",
		"0":                               "0",
	} {
		c := canalOneCol(t, "decimal(30,10)", in)
		if c.Value.Kind != schema.DecimalV || c.Value.S != want {
			t.Errorf("decimal %q = %s %q, want %q", in, c.Value.Kind, c.Value.S, want)
		}
	}
	canalOneErr(t, "decimal(10,2)", "12,30", "invalid decimal")
	wantValue(t, canalOneCol(t, "double", "1.0E10"), schema.FloatValue(1e10))
	wantValue(t, canalOneCol(t, "float", "3.14"), schema.FloatValue(3.14))
	wantValue(t, canalOneCol(t, "double", "NaN"), schema.FloatValue(0*nan()))
}

func nan() float64 {
	var z float64
	return z / z
}

func TestCanalEnum(t *testing.T) {
	const typ = "enum('new','paid','it''s')"
	wantValue(t, canalOneCol(t, typ, "1"), schema.StringValue("new"))
	wantValue(t, canalOneCol(t, typ, "3"), schema.StringValue("it's"))
	// Index 0 is MySQL's own value for an invalid enum value: the empty string.
	wantValue(t, canalOneCol(t, typ, "0"), schema.StringValue(""))
	// A label instead of an index is taken as it is.
	wantValue(t, canalOneCol(t, typ, "paid"), schema.StringValue("paid"))
	c := canalOneCol(t, typ, "2")
	if c.Type.Kind != schema.Enum || len(c.Type.Labels) != 3 {
		t.Errorf("Type = %s, want the enum", c.Type)
	}
	canalOneErr(t, "enum('new','paid')", "7", "canal: data[0].c: enum index 7 out of range for enum('new','paid')")
	canalOneErr(t, "enum('new','paid')", "lost", `enum value "lost" is neither an index nor a label`)
}

func TestCanalSet(t *testing.T) {
	const typ = "set('a','b','c')"
	for in, want := range map[string]string{"0": "", "1": "a", "5": "a,c", "7": "a,b,c", "b,c": "b,c", "": ""} {
		wantValue(t, canalOneCol(t, typ, in), schema.StringValue(want))
	}
	canalOneErr(t, typ, "8", "set bitmask 8 has bits beyond the 3 members")
	canalOneErr(t, typ, "a,z", `set value "a,z" is neither a bitmask nor labels`)
}

func TestCanalBinaryLatin1(t *testing.T) {
	// Canal decodes binary columns as ISO-8859-1: byte b becomes rune b.
	all := make([]byte, 256)
	runes := make([]rune, 256)
	for i := range all {
		all[i], runes[i] = byte(i), rune(i)
	}
	for _, typ := range []string{"blob", "longblob", "binary(16)", "varbinary(255)", "geometry"} {
		c := canalOneCol(t, typ, string(runes))
		if c.Value.Kind != schema.BytesV || string(c.Value.B) != string(all) {
			t.Errorf("%s: got %s %x, want bytes 00…ff", typ, c.Value.Kind, c.Value.B)
		}
	}
	canalOneErr(t, "blob", "caf\u20ac", "invalid ISO-8859-1 bytes")
	// Text columns stay text.
	wantValue(t, canalOneCol(t, "varchar(10)", "é€"), schema.StringValue("é€"))
	wantValue(t, canalOneCol(t, "json", `{"a": 1}`), schema.StringValue(`{"a": 1}`))
}

func TestCanalTemporal(t *testing.T) {
	shanghai := mustLoc(t, "Asia/Shanghai")
	// TIMESTAMP text is in the Canal server's zone.
	c := canalOne(t, Options{SourceLocation: shanghai}, "timestamp", "2024-01-01 08:00:00")
	wantValue(t, c, schema.TimestampMicros(micros(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))))
	c = canalOne(t, Options{}, "timestamp(6)", "2024-01-01 08:00:00.000001")
	wantValue(t, c, schema.TimestampMicros(micros(time.Date(2024, 1, 1, 8, 0, 0, 1000, time.UTC))))
	// DATETIME is a wall clock: the zone does not apply.
	c = canalOne(t, Options{SourceLocation: shanghai}, "datetime(3)", "2024-01-01 08:00:00.123")
	wantValue(t, c, schema.DateTimeMicros(micros(time.Date(2024, 1, 1, 8, 0, 0, 123e6, time.UTC))))
	if c.Type.Kind != schema.DateTime || c.Type.Scale != 3 {
		t.Errorf("Type = %s, want datetime(3)", c.Type)
	}
	wantValue(t, canalOneCol(t, "date", "1969-12-31"), schema.DateDays(-1))
	wantValue(t, canalOneCol(t, "date", "2024-02-29"), schema.DateDays(19782))

	for in, want := range map[string]int64{
		"-838:59:59.000000": -(838*3600 + 59*60 + 59) * 1e6,
		"838:59:59":         (838*3600 + 59*60 + 59) * 1e6,
		"123:04:05":         (123*3600 + 4*60 + 5) * 1e6,
		"-00:00:01.500000":  -1_500_000,
		"00:00:00":          0,
	} {
		wantValue(t, canalOneCol(t, "time(6)", in), schema.TimeMicros(want))
	}
	canalOneErr(t, "time", "839:00:00", "invalid time")
	canalOneErr(t, "time", "12:60:00", "invalid time")
	canalOneErr(t, "datetime", "2024-13-01 00:00:00", "invalid datetime")
	canalOneErr(t, "date", "yesterday", `invalid date "yesterday"`)
}

func TestCanalZeroDates(t *testing.T) {
	for _, tc := range []struct{ typ, value string }{
		{"date", "0000-00-00"},
		{"datetime", "0000-00-00 00:00:00"},
		{"datetime(6)", "0000-00-00 00:00:00.000000"},
		{"timestamp", "0000-00-00 00:00:00"},
		{"date", "2024-00-10"}, // partly zero
		{"date", "2024-05-00"},
		{"datetime", "0000-05-01 10:00:00"},
		{"date", "2024-02-30"}, // ALLOW_INVALID_DATES
	} {
		c := canalOneCol(t, tc.typ, tc.value)
		if !c.Value.IsNull() || !c.ZeroDate {
			t.Errorf("%s %q: got %s, ZeroDate %v; want NULL with ZeroDate", tc.typ, tc.value, c.Value, c.ZeroDate)
		}
	}
	if c := canalOneCol(t, "date", nil); !c.Value.IsNull() || c.ZeroDate {
		t.Errorf("null date: got %s, ZeroDate %v; want NULL without ZeroDate", c.Value, c.ZeroDate)
	}
}

func TestCanalEvents(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	event := func(typ string, ddl bool) string {
		d := "false"
		if ddl {
			d = "true"
		}
		return `{"data":null,"database":"shop","es":1714559400000,"id":1,"isDdl":` + d +
			`,"mysqlType":null,"old":null,"pkNames":null,"sql":"X","sqlType":null,"table":"orders","ts":1,"type":"` + typ + `"}`
	}
	for typ, want := range map[string]Skip{"GTID": NoRowEvent, "XACOMMIT": TxMarker, "XAROLLBACK": TxMarker, "MHEARTBEAT": Heartbeat} {
		out, skip, err := dec.Decode(nil, record(event(typ, false)))
		if err != nil || skip != want || len(out) != 0 {
			t.Errorf("%s: got %d changes, skip %q, err %v; want skip %q", typ, len(out), skip, err, want)
		}
	}
	for typ, want := range map[string]Op{"TRUNCATE": Truncate, "CREATE": DDL, "ALTER": DDL, "ERASE": DDL, "QUERY": DDL, "RENAME": DDL, "CINDEX": DDL, "DINDEX": DDL} {
		c := decode(t, dec, record(event(typ, true)))
		if len(c) != 1 || c[0].Op != want || c[0].SQL != "X" || c[0].Table != "orders" || c[0].Columns != nil {
			t.Errorf("%s: got %+v, want one %s of shop.orders with its SQL", typ, c, want)
		}
	}
	decodeErr(t, dec, record(event("INSERT", true)), "canal: isDdl: true on a INSERT event")
	decodeErr(t, dec, record(event("UPSERT", false)), `canal: type: unknown event type "UPSERT"`)
}

func TestCanalErrors(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	good := canalMessage("INSERT", []canalCol{{"id", "int(11)", "1"}}, nil)
	for _, tc := range []struct {
		msg   string
		wants []string
	}{
		{`{"payload":{}}`, []string{`not a canal flatMessage: no "isDdl" field (looks like debezium)`}},
		{`{"isDdl":false}`, []string{`not a canal flatMessage: no "data" field`}},
		{strings.Replace(good, `"es":1714559400000`, `"es":"soon"`, 1), []string{`canal: es: want epoch milliseconds, got "soon"`}},
		{strings.Replace(good, `"int(11)"`, `"int(11"`, 1), []string{"canal: mysqlType.id:", "unbalanced"}},
		{strings.Replace(good, `"int(11)"`, `"money"`, 1), []string{"canal: mysqlType.id:", `unknown MySQL type "money"`}},
		{strings.Replace(good, `"data":[{`, `"data":[1,{`, 1), []string{"canal: data[0]: want an object, got number"}},
		{strings.Replace(good, `"type":"INSERT"`, `"type":"UPDATE"`, 1) + " ", nil},
		{strings.Replace(strings.Replace(good, `"type":"INSERT"`, `"type":"UPDATE"`, 1), `"old":null`, `"old":[]`, 1), []string{"canal: old: want an array of 1 rows like data"}},
		{`{"data":[{"a":"1","a":"2"}],"isDdl":false,"type":"INSERT","database":"d","table":"t"}`, []string{"canal: data[0].a: column appears twice"}},
		{`[1]`, []string{"canal: message is a JSON array, not an object"}},
		{`{"isDdl":`, []string{"canal: invalid JSON"}},
		{"{\"a\":\"\xff\"}", []string{"canal: invalid JSON: invalid UTF-8 at byte 6"}},
	} {
		if tc.wants == nil {
			continue
		}
		decodeErr(t, dec, record(tc.msg), tc.wants...)
	}
	// An error in the second row drops the first row's change too.
	two := `{"data":[{"id":"1"},{"id":"x"}],"database":"shop","es":1,"isDdl":false,"mysqlType":{"id":"int(11)"},"old":null,"pkNames":["id"],"sql":"","table":"orders","ts":1,"type":"INSERT"}`
	decodeErr(t, dec, record(two), `canal: data[1].id: invalid int "x"`)
	if _, _, err := dec.Decode(nil, &Record{}); err == nil || err.Error() != "canal: empty message" {
		t.Errorf("empty message: err %v", err)
	}
}

func TestCanalLongValueTruncatedInError(t *testing.T) {
	long := strings.Repeat("9", 500) + "x"
	err := decodeError(t, newDecoder(t, Options{Format: "canal"}), record(canalMessage("INSERT", []canalCol{{"c", "int", long}}, nil)))
	if len(err.Error()) > 160 {
		t.Errorf("error is %d bytes long; values must be cut to about 80: %v", len(err.Error()), err)
	}
}

func TestCanalTypeCacheBounded(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"}).(*canalDecoder)
	for i := 0; i < 10000; i++ {
		msg := canalMessage("INSERT", []canalCol{{"c", "varchar(" + itoa(i+1) + ")", "x"}}, nil)
		decode(t, dec, record(msg))
	}
	if len(dec.types) > 4096 {
		t.Errorf("type cache holds %d entries, want at most 4096", len(dec.types))
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestCanalTypesFollowTheMessage decodes one decoder's messages whose
// mysqlType repeats, changes, comes back, grows and disappears: every
// column is typed by its own message's mysqlType, whatever the caches hold.
func TestCanalTypesFollowTheMessage(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	for i, step := range []struct {
		mysqlType string // "" for a message with "mysqlType":null
		want      schema.Kind
	}{
		{"int", schema.Int}, {"int", schema.Int}, {"varchar(8)", schema.VarChar}, {"int", schema.Int},
		{"varchar(8)", schema.VarChar}, {"varchar(8)", schema.VarChar}, {"", schema.Unknown}, {"varchar(8)", schema.VarChar},
	} {
		msg := canalMessage("INSERT", []canalCol{{"c", step.mysqlType, "7"}}, nil)
		if step.mysqlType == "" {
			msg = strings.Replace(msg, `"mysqlType":{"c":""}`, `"mysqlType":null`, 1)
		}
		if got := column(t, decode(t, dec, record(msg))[0].Columns, "c"); got.Type.Kind != step.want {
			t.Errorf("message %d (mysqlType %q): column typed %s, want %s", i, step.mysqlType, got.Type.Kind, step.want)
		}
	}
}

// TestCanalTemporalRepeat checks that a date or time text repeated from
// the previous message (which the decoder remembers) gives the same value,
// also when the message buffer is reused with another text of the same
// length.
func TestCanalTemporalRepeat(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal", SourceLocation: mustLoc(t, "Asia/Shanghai")})
	cols := func(ts, d string) []canalCol {
		return []canalCol{{"id", "int(11)", "1"}, {"ts", "timestamp(3)", ts}, {"d", "date", d}}
	}
	msg := []byte(canalMessage("INSERT", cols("2024-05-01 18:30:05.123", "0000-00-00"), nil))
	rec := &Record{Topic: "t", Value: msg, Timestamp: testTimestamp}
	for i := range 2 {
		c := decode(t, dec, rec)[0].Columns
		wantValue(t, column(t, c, "ts"), schema.TimestampMicros(time.Date(2024, 5, 1, 10, 30, 5, 123e6, time.UTC).UnixMicro()))
		if d := column(t, c, "d"); d.Value.Kind != schema.Null || !d.ZeroDate {
			t.Errorf("message %d: date = %v (zero %v), want NULL and a zero date", i, d.Value, d.ZeroDate)
		}
	}
	copy(msg, canalMessage("INSERT", cols("2024-05-01 18:30:06.000", "2024-05-02"), nil))
	c := decode(t, dec, rec)[0].Columns
	wantValue(t, column(t, c, "ts"), schema.TimestampMicros(time.Date(2024, 5, 1, 10, 30, 6, 0, time.UTC).UnixMicro()))
	if d := column(t, c, "d"); !d.Value.Equal(schema.DateDays(time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC).Unix()/86400)) || d.ZeroDate {
		t.Errorf("reused message: date = %v (zero %v), want 2024-05-02", d.Value, d.ZeroDate)
	}
}

// TestCanalKeyRepeat checks the keys of messages whose pkNames repeat,
// change and are empty in turn (the decoder remembers the last one).
func TestCanalKeyRepeat(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	msg := canalMessage("INSERT", []canalCol{{"id", "int(11)", "1"}, {"k", "int(11)", "2"}}, nil)
	for _, pk := range []string{`["id"]`, `["id"]`, `[]`, `[]`, `["id","k"]`, `["id"]`, `null`, `["id"]`} {
		m := strings.Replace(msg, `"pkNames":["id"]`, `"pkNames":`+pk, 1)
		got := decode(t, dec, record(m))[0].Key
		var want []string
		if err := json.Unmarshal([]byte(pk), &want); err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			want = nil
		}
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("pkNames %s: key %q, want %q", pk, got, want)
		}
	}
}

// TestCanalKeyOutlivesItsMessage: the Key a decoder shares between the
// records of a table does not point into the message it was first read
// from, which the caller may reuse once that record is done.
func TestCanalKeyOutlivesItsMessage(t *testing.T) {
	dec := newDecoder(t, Options{Format: "canal"})
	msg := canalMessage("INSERT", []canalCol{{"id", "int(11)", "1"}}, nil)
	a := []byte(msg)
	decode(t, dec, &Record{Topic: "t", Value: a, Timestamp: testTimestamp})
	b := decode(t, dec, &Record{Topic: "t", Value: []byte(msg), Timestamp: testTimestamp})
	for i := range a {
		a[i] = 'x'
	}
	if !slices.Equal(b[0].Key, []string{"id"}) {
		t.Errorf("key %q after the first message was overwritten, want [id]", b[0].Key)
	}
}

// TestCanalScanMatchesDOM decodes messages that take scan's every way out
// (and some it takes) both through scan and parsed whole.
func TestCanalScanMatchesDOM(t *testing.T) {
	o := goldenOptions(t, "canal")
	o.AESKeys = [][]byte{testKey}
	ins := canalMessage("INSERT", []canalCol{{"id", "int", "1"}, {"v", "varchar(3)", "x"}}, nil)
	sealed, err := Seal(testKey, []byte(ins))
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{
		ins,
		canalMessage("UPDATE", []canalCol{{"id", "int", "1"}, {"v", "varchar(3)", "x"}}, map[string]any{"v": "y"}),
		string(sealed),
		" \t" + ins + "\n",
		ins + "x",
		ins[:len(ins)-1],
		strings.Replace(ins, `"data"`, `"d\u0061ta"`, 1),                       // an escaped root key
		strings.Replace(ins, `"isDdl":false`, `"isDdl":"no"`, 1),               // a bad member
		strings.Replace(ins, `"isDdl":false`, `"isDdl":false,"isDdl":true`, 1), // twice: the last counts
		strings.Replace(ins, `"type":"INSERT"`, `"type":"INSERT","type":"GTID"`, 1),
		strings.Replace(ins, `"sqlType":{`, `"sqlType":{"x":[[[1]]],`, 1),
		strings.Replace(ins, `"sqlType":{`, `"sqlType":{"x":[1,]`, 1), // invalid where nothing is read
		strings.Replace(ins, `"database":"shop"`, `"database":"sh\"op","extra":[{"a":null}],"ts":1e5`, 1),
		`{"data":[],"isDdl":false}`,
		`{"isDdl":false,"type":"GTID"}`,
		`{"data":[],"isDdl":false,"type":"GTID"}`,
		`{"type":"INSERT","isDdl":false,"data":[{"a":"1"}],"database":"d","table":"t"}`, // another order
		strings.Replace(ins, `"isDdl":false`, `"isDdl" :false`, 1),
		strings.Replace(ins, `"isDdl":false`, `"isDdl":false,"gtid":"x"`, 1),
		ins,
		`{}`, `[]`, ``, `{"a":1,"b":2,"c":3`, "{\"a\":\"\xff\"}",
		"{" + strings.Repeat(`"sql":"",`, 4) + `"data":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "}",
	}
	// One decoder for all: each message meets the member order of the
	// one before.
	dec := newDecoder(t, o)
	for _, m := range msgs {
		checkCanalScan(t, dec, o, &Record{Topic: "t", Offset: 1, Value: []byte(m), Timestamp: testTimestamp})
	}
}

// TestTemporalMemo checks that the memo keeps the two texts used last:
// an UPDATE's new and old value of a column do not push each other out.
func TestTemporalMemo(t *testing.T) {
	var m temporalMemo
	v := func(i int64) schema.Value { return schema.Value{Kind: schema.TimeV, I: i} }
	want := func(text string, i int64, ok bool) {
		t.Helper()
		got, _, hit := m.get(text)
		if hit != ok || hit && !got.Equal(v(i)) {
			t.Fatalf("get(%q) = %v, %v; want %v, %v", text, got, hit, v(i), ok)
		}
	}
	want("", 0, false)
	m.put("2024-01-01 00:00:01", v(1), false)
	m.put("2024-01-01 00:00:00", v(0), false)
	want("2024-01-01 00:00:01", 1, true)
	want("2024-01-01 00:00:00", 0, true)
	want("2024-01-01 00:00:01", 1, true)
	m.put("2023-12-31 23:59:59", v(-1), false) // replaces 00:00:00, used longer ago
	want("2024-01-01 00:00:00", 0, false)
	want("2024-01-01 00:00:01", 1, true)
	want("2023-12-31 23:59:59", -1, true)
	m.put(strings.Repeat("9", 40), v(9), false) // too long: not remembered
	want(strings.Repeat("9", 40), 0, false)
	want("2024-01-01 00:00:01", 1, true)
	want("2023-12-31 23:59:59", -1, true)
}

// TestCanalKeyMatch checks canalKey.match, as scan calls it, against
// strings.HasPrefix for every
// key at every position of texts that hold it whole, cut short, or
// changed in one byte, near and far from the end.
func TestCanalKeyMatch(t *testing.T) {
	for i := range canalKeys {
		k := &canalKeys[i]
		var texts []string
		for _, pad := range []string{"", "x", `{"a":1,`, strings.Repeat(" ", 17)} {
			for _, tail := range []string{"", "1", `"v","b":2}`, strings.Repeat("z", 20)} {
				texts = append(texts, pad+k.quoted+tail)
				for cut := range len(k.quoted) {
					texts = append(texts, pad+k.quoted[:cut]+tail)
					b := []byte(pad + k.quoted + tail)
					b[len(pad)+cut] ^= 0x20
					texts = append(texts, string(b))
				}
			}
		}
		for _, s := range texts {
			for p := 0; p+16 <= len(s); p++ {
				if got, want := k.match(load64(s, p), load64(s, p+8)), strings.HasPrefix(s[p:], k.quoted); got != want {
					t.Fatalf("key %s at %d of %q: %v, want %v", k.quoted, p, s, got, want)
				}
			}
		}
	}
}

// TestCanalFlatRowsRandomized compares messages whose rows scan reads flat
// (rowsValue) with the whole parse: random rows of scalar values, space,
// escapes, nulls, empty and duplicate columns, columns in and out of
// mysqlType's order, mysqlType naming a column twice, null old rows, rows
// of other shapes and row counts that do not match.
func TestCanalFlatRowsRandomized(t *testing.T) {
	o := goldenOptions(t, "canal")
	dec := newDecoder(t, o)
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	sp := func() string {
		if rng.IntN(6) == 0 {
			return pick(" ", "\n", "\t ", "\r\n  ")
		}
		return ""
	}
	names := []string{"id", "amount", "at", "note", "flag", `n\u0061me`, "x"}
	types := `{"id":"int(11)","amount":"decimal(10,2)","at":"datetime(3)","note":"varchar(20)","flag":"tinyint(1)","x":"bigint unsigned"}`
	value := func(col string) string {
		switch rng.IntN(12) {
		case 0:
			return "null"
		case 1:
			return pick("true", "false")
		case 2:
			return pick("12", "-3", "1.5e2", "0", "18446744073709551615")
		case 3:
			return pick(`"a\"b"`, `"\u00e9t\u00e9"`, `"tab\there"`, `"\ud83c\udf89"`)
		case 4:
			return pick(`{}`, `[]`, `[1]`, `{"a":1}`, `nul`, `"`) // not scalar or not JSON
		}
		switch col {
		case "id", "x":
			return `"` + strconv.Itoa(rng.IntN(1000)-10) + `"`
		case "amount":
			return pick(`"12.50"`, `"-0.05"`, `"1E+3"`, `"abc"`)
		case "at":
			return pick(`"2024-05-01 18:30:00.250"`, `"0000-00-00 00:00:00"`, `"2024-02-30 00:00:00"`)
		case "flag":
			return pick(`"1"`, `"0"`, `"2"`)
		}
		return `"` + pick("plain", "", "ünï", "a,b") + `"`
	}
	row := func() string {
		if rng.IntN(20) == 0 {
			return pick("null", "1", `"r"`, "[]")
		}
		var b strings.Builder
		b.WriteString("{" + sp())
		n := rng.IntN(5)
		for i := range n {
			if i > 0 {
				b.WriteString(sp() + "," + sp())
			}
			col := names[rng.IntN(len(names))]
			if rng.IntN(3) > 0 && i < 4 {
				col = names[i] // mostly in mysqlType's order
			}
			b.WriteString(`"` + col + `"` + sp() + ":" + sp() + value(col))
		}
		b.WriteString(sp() + "}")
		return b.String()
	}
	rows := func(n int, old bool) string {
		var b strings.Builder
		b.WriteString("[" + sp())
		for i := range n {
			if i > 0 {
				b.WriteString(sp() + "," + sp())
			}
			if old && rng.IntN(3) == 0 {
				b.WriteString("null")
			} else {
				b.WriteString(row())
			}
		}
		b.WriteString(sp() + "]")
		return b.String()
	}
	flat := 0
	const messages = 3000
	for i := range messages {
		n := rng.IntN(4)
		data := rows(n, false)
		typ := pick("INSERT", "UPDATE", "UPDATE", "DELETE")
		old := "null"
		if typ == "UPDATE" && rng.IntN(4) > 0 {
			m := n
			if rng.IntN(10) == 0 {
				m = rng.IntN(4)
			}
			old = rows(m, true)
		}
		if rng.IntN(30) == 0 {
			data = pick("null", `{"id":"1"}`, `"x"`)
		}
		types := types
		if rng.IntN(8) == 0 { // a column twice: its first type counts
			types = strings.Replace(types, `}`, pick(`,"id":"varchar(5)"}`, `,"note":"int"}`, `,"flag":"date"}`), 1)
		}
		msg := `{` + sp() + `"data":` + sp() + data + sp() + `,"database":"shop","es":1714559400000,"id":1,"isDdl":false,"mysqlType":` + types +
			`,"old":` + sp() + old + `,"pkNames":["id"],"sql":"","table":"orders","ts":1,"type":"` + typ + `"}`
		if rng.IntN(40) == 0 { // data twice: the last one counts
			msg = strings.Replace(msg, `"database"`, `"data":`+rows(1, false)+`,"database"`, 1)
		}
		rec := &Record{Value: []byte(msg), Offset: int64(i), Timestamp: time.UnixMilli(1714559400000)}
		checkCanalScan(t, dec, o, rec)
		if dec.(*canalDecoder).flatOK[0] {
			flat++
		}
	}
	t.Logf("%d of %d messages decoded from flat rows", flat, messages)
	if flat < messages/3 {
		t.Errorf("%d of %d messages decoded from flat rows, want most of those that decode", flat, messages)
	}
}
