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

func isRowjsonMeta(name string) bool {
	return name == "__op" || name == "table_name" || name == "database"
}

func (x *rowjsonDecoder) decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	if err := x.load(rec.Value); err != nil {
		return dst, NotSkipped, err
	}
	d := &x.doc
	op := d.get(0, "__op")
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
	ch.Database = rec.Topic
	for _, f := range []struct {
		name string
		dst  *string
	}{{"database", &ch.Database}, {"table_name", &ch.Table}} {
		switch m := d.get(0, f.name); d.kind(m) {
		case jString:
			*f.dst = d.str(m)
		case jNull:
		default:
			return dst, NotSkipped, x.fail(f.name, "want a string, got %s", quoteValue(d.compact(m)))
		}
	}
	var err error
	if ch.EventTime, err = x.eventTime(rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Columns, err = untypedRow(&x.base, d, 0, "", isRowjsonMeta); err != nil {
		return dst, NotSkipped, err
	}
	return append(dst, ch), NotSkipped, nil
}

// eventTime reads the event time field: a "YYYY-MM-DD HH:MM:SS[.f]"
// string in SourceLocation (or with its own offset, RFC 3339), or an epoch
// number (milliseconds when |n| ≥ 1e11, else seconds). Absent, null or a
// zero date means the Kafka record timestamp.
func (x *rowjsonDecoder) eventTime(rec *Record) (time.Time, error) {
	kafka := rec.Timestamp.UTC()
	if x.eventTimeField == "" {
		return kafka, nil
	}
	d := &x.doc
	m := d.get(0, x.eventTimeField)
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
