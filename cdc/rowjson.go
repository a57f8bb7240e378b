package cdc

import (
	"time"

	"github.com/binlake/binlake/schema"
)

// rowjsonDecoder decodes the flat rows of home-grown binlog readers: the
// mapped columns plus "__op" (0 upsert, 1 delete) and optionally
// "table_name" and "database".
type rowjsonDecoder struct {
	base
	eventTimeField string
}

// Decode implements Decoder.
func (x *rowjsonDecoder) Decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	out, skip, err := x.decode(dst, rec)
	return settle(dst, out, skip, err)
}

// isRowjsonMeta reports whether a root member named name is metadata, not
// a column. members counts the columns by it and untypedRow, which carves
// that many, skips by it: one rule, so that a row never outgrows what was
// carved for it.
func isRowjsonMeta(name string) bool {
	return name == "__op" || name == "table_name" || name == "database"
}

// rowjsonMembers are the root members the decoder reads, found in one walk
// over the members (the first of a name, as jdoc.get finds it), and the
// number of the others, the columns.
type rowjsonMembers struct {
	op, database, table, eventTime int32
	columns                        int
}

// members finds the rowjsonMembers in one walk.
func (x *rowjsonDecoder) members() rowjsonMembers {
	d := &x.doc
	r := rowjsonMembers{op: -1, database: -1, table: -1, eventTime: -1}
	for m := d.nodes[0].first; m >= 0; m = d.nodes[m].next {
		name := d.key(m)
		if r.eventTime < 0 && x.eventTimeField != "" && name == x.eventTimeField {
			r.eventTime = m
		}
		if !isRowjsonMeta(name) {
			r.columns++
			continue
		}
		switch name {
		case "__op":
			setFirst(&r.op, m)
		case "database":
			setFirst(&r.database, m)
		case "table_name":
			setFirst(&r.table, m)
		}
	}
	return r
}

func (x *rowjsonDecoder) decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	if err := x.load(rec.Value); err != nil {
		return dst, NotSkipped, err
	}
	d := &x.doc
	r := x.members()
	op := r.op
	switch d.kind(op) {
	case jNumber:
	case jNull:
		if op < 0 {
			return dst, NotSkipped, x.notFormat("rowjson message", `no "__op" field`)
		}
		fallthrough
	default:
		return dst, NotSkipped, x.notFormat("rowjson message", `"__op" is a `+d.kind(op).String()+", not an integer")
	}
	ch := Change{Pos: Pos{File: 0, Offset: rec.Offset}}
	switch d.text(op) {
	case "0":
		ch.Op = Update
	case "1":
		ch.Op = Delete
	default:
		return dst, NotSkipped, x.fail("__op", "want 0 (upsert) or 1 (delete), got %s", d.text(op))
	}
	var err error
	if ch.Database, err = x.name(r.database, "database", rec.Topic); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Table, err = x.name(r.table, "table_name", ""); err != nil {
		return dst, NotSkipped, err
	}
	if ch.EventTime, err = x.eventTime(r.eventTime, rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Columns, err = untypedRow(&x.base, d, 0, r.columns, "", isRowjsonMeta); err != nil {
		return dst, NotSkipped, err
	}
	return append(dst, ch), NotSkipped, nil
}

// name reads the string member m (field names it), or returns def when it
// is absent or null.
func (x *rowjsonDecoder) name(m int32, field, def string) (string, error) {
	d := &x.doc
	switch d.kind(m) {
	case jString:
		return d.str(m), nil
	case jNull:
		return def, nil
	}
	return "", x.fail(field, "want a string, got %s", quoteValue(d.compact(m)))
}

// eventTime reads the event time field: a "YYYY-MM-DD HH:MM:SS[.f]"
// string in SourceLocation (or with its own offset, RFC 3339), or an epoch
// number (milliseconds when |n| ≥ 1e11, else seconds). Absent, null or a
// zero date means the Kafka record timestamp.
// m is the field's member, -1 when it is absent.
func (x *rowjsonDecoder) eventTime(m int32, rec *Record) (time.Time, error) {
	kafka := rec.Timestamp.UTC()
	if x.eventTimeField == "" {
		return kafka, nil
	}
	d := &x.doc
	switch d.kind(m) {
	case jNull:
		return kafka, nil
	case jNumber:
		if t, ok := epochAuto(d.text(m)); ok {
			return t, nil
		}
	case jString:
		v, zero, err := schema.Coerce(schema.StringValue(d.str(m)), schema.Type{Kind: schema.Timestamp, Scale: 6}, schema.CoerceOptions{Zone: x.loc})
		if err == nil && zero {
			return kafka, nil
		}
		if err == nil {
			return time.UnixMicro(v.I).UTC(), nil
		}
	}
	return time.Time{}, x.fail(x.eventTimeField, "want an event time (\"YYYY-MM-DD HH:MM:SS\" or epoch seconds or milliseconds), got %s", quoteValue(d.compact(m)))
}
