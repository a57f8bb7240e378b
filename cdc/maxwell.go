package cdc

import (
	"fmt"
	"strings"
)

// maxwellDecoder decodes Maxwell's JSON messages, including its own
// AES-CBC encryption (encrypt=data and encrypt=all).
type maxwellDecoder struct {
	base
	inner   jdoc // the decrypted {"data", "old"} of encrypt=data
	keyBuf  []string
	lastKey []string
}

// Decode implements Decoder.
func (x *maxwellDecoder) Decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	out, skip, err := x.decode(dst, rec)
	return settle(dst, out, skip, err)
}

func (x *maxwellDecoder) decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	if err := x.load(rec.Value); err != nil {
		return dst, NotSkipped, err
	}
	d := &x.doc
	if enc := onlyMember(d, "encrypted"); enc >= 0 {
		// encrypt=all: the whole message is encrypted.
		if err := x.decrypt(d, enc, d, "message"); err != nil {
			return dst, NotSkipped, err
		}
		if d.nodes[0].kind != jObject || onlyMember(d, "encrypted") >= 0 {
			return dst, NotSkipped, x.fail("encrypted", "decrypted message is not a plain Maxwell message")
		}
	}
	mm := x.members()
	typ := mm.typ
	if d.kind(typ) != jString {
		return dst, NotSkipped, x.notFormat("maxwell message", `no "type" field`)
	}
	ch := Change{Database: d.stringOf(mm.database), Table: d.stringOf(mm.table)}
	ch.EventTime = rec.Timestamp.UTC()
	if ts := mm.ts; d.kind(ts) != jNull {
		t, ok := epochAuto(d.text(ts))
		if d.nodes[ts].kind != jNumber || !ok {
			return dst, NotSkipped, x.fail("ts", "want epoch seconds, got %s", quoteValue(d.compact(ts)))
		}
		ch.EventTime = t
	}
	var err error
	if ch.Pos, err = x.pos(mm.xoffset, mm.position, rec); err != nil {
		return dst, NotSkipped, err
	}
	switch t := d.str(typ); t {
	case "insert", "bootstrap-insert":
		ch.Op = Insert
	case "update":
		ch.Op = Update
	case "delete":
		ch.Op = Delete
	case "bootstrap-start", "bootstrap-complete":
		return dst, NoRowEvent, nil
	case "heartbeat":
		return dst, Heartbeat, nil
	case "database-create", "database-alter", "database-drop", "table-create", "table-alter", "table-drop":
		ch.Op = DDL
		ch.SQL = d.stringOf(mm.sql)
		return append(dst, ch), NotSkipped, nil
	default:
		if d.kind(mm.data) != jObject {
			return dst, NotSkipped, x.notFormat("maxwell message", "unknown type "+quoteValue(t)+" and no \"data\" object")
		}
		return dst, NotSkipped, x.fail("type", "unknown type %s", quoteValue(t))
	}

	rows, data, old := d, mm.data, mm.old
	if enc := mm.encrypted; data < 0 && enc >= 0 {
		// encrypt=data: data and old are encrypted together.
		if err := x.decrypt(d, enc, &x.inner, "data"); err != nil {
			return dst, NotSkipped, err
		}
		rows = &x.inner
		data, old = rows.get(0, "data"), rows.get(0, "old")
	}
	if rows.kind(data) != jObject {
		if data < 0 {
			return dst, NotSkipped, x.notFormat("maxwell message", `no "data" object`)
		}
		return dst, NotSkipped, x.fail("data", "want an object, got %s", rows.kind(data))
	}
	if ch.Columns, err = x.row(rows, data, "data"); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Op == Update {
		switch rows.kind(old) {
		case jObject:
			oldCols, err := x.row(rows, old, "old")
			if err != nil {
				return dst, NotSkipped, err
			}
			ch.Before = x.mergeBefore(ch.Columns, oldCols)
		case jNull:
			// Maxwell leaves out "old" when no column changed.
			ch.Before = x.mergeBefore(ch.Columns, nil)
		default:
			return dst, NotSkipped, x.fail("old", "want an object, got %s", rows.kind(old))
		}
	}
	if ch.Key, err = x.key(mm.primaryKey); err != nil {
		return dst, NotSkipped, err
	}
	return append(dst, ch), NotSkipped, nil
}

// decrypt opens an "encrypted" {"iv", "bytes"} object of d and parses
// the plaintext, the decrypted message or data (what), into into, which
// may be d itself.
func (x *maxwellDecoder) decrypt(d *jdoc, enc int32, into *jdoc, what string) error {
	if len(x.keys) == 0 {
		return x.fail("encrypted", "%v", errNoKey)
	}
	iv, data := d.get(enc, "iv"), d.get(enc, "bytes")
	if d.kind(iv) != jString || d.kind(data) != jString {
		return x.fail("encrypted", `want {"iv": base64, "bytes": base64}, got %s`, quoteValue(d.compact(enc)))
	}
	var parseErr error
	err := x.maxwellDecrypt(d.str(iv), d.str(data), func(plain []byte) error {
		if err := into.parse(string(plain)); err != nil {
			parseErr = fmt.Errorf("decrypted %s: invalid JSON: %w", what, err)
			return parseErr
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case parseErr != nil:
		// Some key gave valid padding: its failure to parse is the
		// likelier story than another key's bad padding.
		return x.fail("encrypted", "%v", parseErr)
	}
	return x.fail("", "%v", err)
}

// onlyMember returns the root's member key if it is the only one, else -1.
func onlyMember(d *jdoc, key string) int32 {
	if d.nodes[0].n != 1 {
		return -1
	}
	return d.get(0, key)
}

// maxwellMembers are the root members the decoder reads: the first of
// each name, as jdoc.get finds it, or -1.
type maxwellMembers struct {
	typ, database, table, ts, xoffset, position, data, old, primaryKey, sql, encrypted int32
}

// noMaxwellMembers are the maxwellMembers of an object without them.
var noMaxwellMembers = maxwellMembers{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// members finds the maxwellMembers in one walk.
func (x *maxwellDecoder) members() maxwellMembers {
	d := &x.doc
	mm := noMaxwellMembers
	for m := d.nodes[0].first; m >= 0; m = d.nodes[m].next {
		switch d.key(m) {
		case "type":
			setFirst(&mm.typ, m)
		case "database":
			setFirst(&mm.database, m)
		case "table":
			setFirst(&mm.table, m)
		case "ts":
			setFirst(&mm.ts, m)
		case "xoffset":
			setFirst(&mm.xoffset, m)
		case "position":
			setFirst(&mm.position, m)
		case "data":
			setFirst(&mm.data, m)
		case "old":
			setFirst(&mm.old, m)
		case "primary_key_columns":
			setFirst(&mm.primaryKey, m)
		case "sql":
			setFirst(&mm.sql, m)
		case "encrypted":
			setFirst(&mm.encrypted, m)
		}
	}
	return mm
}

// pos reads position ("master.000003:4579") and xoffset (members pm and
// xo); without a position it is Pos{0, Kafka offset, xoffset}.
func (x *maxwellDecoder) pos(xo, pm int32, rec *Record) (Pos, error) {
	d := &x.doc
	var p Pos
	if d.kind(xo) != jNull {
		n, err := parseInt64(d.text(xo))
		if d.nodes[xo].kind != jNumber || err != nil {
			return p, x.fail("xoffset", "want an integer, got %s", quoteValue(d.compact(xo)))
		}
		p.Row = n
	}
	if d.kind(pm) == jNull {
		p.Offset = rec.Offset
		return p, nil
	}
	s := d.str(pm)
	file, off, ok := strings.Cut(s, ":")
	seq, okSeq := binlogSeq(file)
	n, err := parseInt64(off)
	if d.nodes[pm].kind != jString || !ok || !okSeq || err != nil || n < 0 {
		return p, x.fail("position", "want \"file.NNNNNN:offset\", got %s", quoteValue(d.compact(pm)))
	}
	p.File, p.Offset = seq, n
	return p, nil
}

// key reads primary_key_columns, member k.
func (x *maxwellDecoder) key(k int32) ([]string, error) {
	d := &x.doc
	switch d.kind(k) {
	case jNull:
		return nil, nil
	case jArray:
	default:
		return nil, x.fail("primary_key_columns", "want an array of column names, got %s", d.kind(k))
	}
	x.keyBuf = x.keyBuf[:0]
	for m := d.nodes[k].first; m >= 0; m = d.nodes[m].next {
		if d.nodes[m].kind != jString {
			return nil, x.fail("primary_key_columns", "want an array of column names, got %s", quoteValue(d.text(k)))
		}
		x.keyBuf = append(x.keyBuf, d.str(m))
	}
	return internKey(&x.lastKey, x.keyBuf), nil
}

// row converts a row image of untyped JSON values.
func (x *maxwellDecoder) row(d *jdoc, obj int32, field string) ([]Column, error) {
	return untypedRow(&x.base, d, obj, int(d.nodes[obj].n), field, nil)
}
