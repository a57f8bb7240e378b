package cdc

import (
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

func TestRowjson(t *testing.T) {
	dec := newDecoder(t, Options{Format: "rowjson"})
	rec := &Record{Topic: "binlog_shop", Offset: 11, Timestamp: testTimestamp,
		Value: []byte(`{"id":1,"amount":12.30,"tags":["a","b"],"__op":0,"table_name":"orders_03","database":"shop_3"}`)}
	c := decode(t, dec, rec)[0]
	if c.Op != Update || c.Database != "shop_3" || c.Table != "orders_03" || c.Pos != (Pos{File: 0, Offset: 11, Row: 0}) || !c.EventTime.Equal(testTimestamp) {
		t.Errorf("got %+v", c)
	}
	if len(c.Columns) != 3 {
		t.Errorf("columns %v: __op, table_name and database are not columns", c.Columns)
	}
	wantValue(t, column(t, c.Columns, "amount"), schema.DecimalValue("12.30"))
	wantValue(t, column(t, c.Columns, "tags"), schema.StringValue("a,b"))

	// Without database the topic stands in for it (DESIGN.md §8).
	rec.Value = []byte(`{"id":1,"__op":1,"table_name":"orders_03"}`)
	if c := decode(t, dec, rec)[0]; c.Op != Delete || c.Database != "binlog_shop" || c.Table != "orders_03" {
		t.Errorf("got %s %s.%s, want delete binlog_shop.orders_03", c.Op, c.Database, c.Table)
	}
	rec.Value = []byte(`{"id":1,"__op":0,"table_name":7}`)
	decodeErr(t, dec, rec, `rowjson: table_name: want a string, got "7"`)
	rec.Value = []byte(`{"id":1,"__op":0.0}`)
	decodeErr(t, dec, rec, `rowjson: __op: want 0 (upsert) or 1 (delete), got 0.0`)
	rec.Value = []byte(`{"id":1,"__op":"u"}`)
	decodeErr(t, dec, rec, `not a rowjson message: "__op" is a string, not an integer (looks like debezium (unwrapped))`)
	rec.Value = []byte(`{"id":1}`)
	decodeErr(t, dec, rec, `not a rowjson message: no "__op" field`)
}

func TestRowjsonEventTime(t *testing.T) {
	shanghai := mustLoc(t, "Asia/Shanghai")
	dec := newDecoder(t, Options{Format: "rowjson", EventTimeField: "updated_at", SourceLocation: shanghai})
	at := time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC)
	for value, want := range map[string]time.Time{
		`"2024-05-01 18:30:00"`:        at, // read in SourceLocation
		`"2024-05-01 18:30:00.250"`:    at.Add(250 * time.Millisecond),
		`"2024-05-01T18:30:00"`:        at,
		`"2024-05-01T10:30:00Z"`:       at, // its own offset wins
		`"2024-05-01T12:30:00+02:00"`:  at,
		`1714559400`:                   at, // epoch seconds
		`1714559400000`:                at, // epoch milliseconds
		`1714559400.5`:                 at.Add(500 * time.Millisecond),
		`null`:                         testTimestamp, // the Kafka timestamp
		`"0000-00-00 00:00:00"`:        testTimestamp,
		`"2024-05-01 18:30:00.123456"`: at.Add(123456 * time.Microsecond),
	} {
		rec := &Record{Topic: "t", Timestamp: testTimestamp, Value: []byte(`{"id":1,"__op":0,"updated_at":` + value + `}`)}
		c := decode(t, dec, rec)[0]
		if !c.EventTime.Equal(want) {
			t.Errorf("updated_at %s: EventTime %s, want %s", value, c.EventTime, want)
		}
		if len(c.Columns) != 2 {
			t.Errorf("the event time field stays a column: %v", c.Columns)
		}
	}
	rec := &Record{Topic: "t", Timestamp: testTimestamp, Value: []byte(`{"id":1,"__op":0}`)}
	if c := decode(t, dec, rec)[0]; !c.EventTime.Equal(testTimestamp) {
		t.Errorf("absent field: EventTime %s, want the Kafka timestamp", c.EventTime)
	}
	for _, bad := range []string{`"tomorrow"`, `true`, `"2024-05-01 25:00:00"`} {
		rec.Value = []byte(`{"id":1,"__op":0,"updated_at":` + bad + `}`)
		decodeErr(t, dec, rec, "rowjson: updated_at: want an event time")
	}
}

// TestRowjsonRepeatedMembers: of __op, database or table_name named
// twice, the first counts, and neither is a column.
func TestRowjsonRepeatedMembers(t *testing.T) {
	dec := newDecoder(t, Options{Format: "rowjson", EventTimeField: "ts"})
	rec := &Record{Topic: "rows", Timestamp: testTimestamp, Value: []byte(`{"__op":0,"__op":1,"database":"a","database":"b",` +
		`"table_name":"t","table_name":"u","ts":1714559400000,"id":1}`)}
	c := decode(t, dec, rec)[0]
	if c.Op != Update || c.Database != "a" || c.Table != "t" || !c.EventTime.Equal(time.UnixMilli(1714559400000)) {
		t.Errorf("got %s %s.%s at %s, want update a.t at epoch ms 1714559400000", c.Op, c.Database, c.Table, c.EventTime)
	}
	if len(c.Columns) != 2 {
		t.Errorf("columns %v, want ts and id", c.Columns)
	}
}
