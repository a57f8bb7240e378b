package cdc

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/binlake/binlake/schema"
)

// decodeKind says how a Debezium field's JSON value becomes a Value.
type decodeKind uint8

const (
	dkUntyped     decodeKind = iota // no schema for the field: by JSON kind
	dkBool                          // boolean
	dkInt                           // int8 … int64, io.debezium.time.Year
	dkFloat                         // float ("float32"), double ("float64")
	dkString                        // string, Json, Enum, EnumSet
	dkBytes                         // bytes, base64
	dkDecimal                       // connect Decimal: base64 unscaled big-endian two's complement
	dkVarDecimal                    // io.debezium.data.VariableScaleDecimal {scale, value}
	dkDate                          // days since the epoch
	dkTimestampMs                   // epoch ms of the wall clock
	dkTimestampUs                   // epoch µs of the wall clock
	dkTimestampNs                   // epoch ns of the wall clock
	dkZoned                         // ISO-8601 text with an offset
	dkTimeMs                        // ms since midnight (or a duration)
	dkTimeUs
	dkTimeNs
	dkBits     // io.debezium.data.Bits: little-endian bytes, base64
	dkGeometry // io.debezium.data.geometry.*: {wkb, srid}
	dkJSON     // struct, array, map: compact JSON text
)

// connectField is one field of a Kafka Connect struct schema.
type connectField struct {
	name  string
	kind  decodeKind
	scale int // dkDecimal
	typ   schema.Type
}

// connectSchema is the row schema of a Debezium record: the fields of the
// envelope's after struct, or of the unwrapped row.
type connectSchema struct {
	name string // the top-level schema name
	row  []connectField
	// unique is set when no two fields of row have the same name.
	unique bool
}

// debeziumDecoder decodes the JSON Debezium's MySQL connector writes with
// JsonConverter: envelopes with or without schemas, the unwrapped
// ExtractNewRecordState form, schema-change and transaction topics.
type debeziumDecoder struct {
	base
	schemas   map[string]*connectSchema // by the schema's raw JSON text
	schemaDoc jdoc                      // a schema being parsed
	keyDoc    jdoc
	keyBuf    []string
	lastKey   []string
	// lastSchema is the schema of lastSchemaText, the doc's shallowText
	// of the schema member it was last found for; both are unset (nil,
	// "") together.
	lastSchema     *connectSchema
	lastSchemaText string
	b64            []byte // see unbase64
}

// Decode implements Decoder.
func (x *debeziumDecoder) Decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	out, skip, err := x.decode(dst, rec)
	return settle(dst, out, skip, err)
}

func (x *debeziumDecoder) decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	if len(rec.Value) == 0 {
		return dst, Tombstone, nil
	}
	if err := x.load(rec.Value); err != nil {
		return dst, NotSkipped, err
	}
	d := &x.doc
	payload := int32(0)
	var sch *connectSchema
	p, s := int32(-1), int32(-1)
	if d.nodes[0].n == 2 { // else no walks for them
		p, s = d.get(0, "payload"), d.get(0, "schema")
	}
	if p >= 0 && s >= 0 {
		payload = p
		switch d.nodes[p].kind {
		case jNull:
			return dst, Tombstone, nil
		case jObject:
		default:
			return dst, NotSkipped, x.fail("payload", "want an object, got %s", d.nodes[p].kind)
		}
		var err error
		if sch, err = x.schema(s); err != nil {
			return dst, NotSkipped, err
		}
	}
	pm := x.payloadMembers(payload)
	has := func(m int32) bool { return m >= 0 }
	status := d.stringOf(pm.status)
	switch {
	case d.kind(pm.op) == jString && (has(pm.source) || has(pm.after) || has(pm.before)):
		return x.envelope(dst, rec, &pm, d.str(pm.op), sch)
	case d.kind(pm.ddl) == jString && (has(pm.databaseName) || has(pm.tableChanges)):
		return x.schemaChange(dst, rec, payload)
	case (status == "BEGIN" || status == "END") && has(pm.id) && (has(pm.eventCount) || has(pm.dataCollections)):
		return dst, TxMarker, nil
	case sch != nil && strings.HasSuffix(sch.name, ".Heartbeat"),
		d.nodes[payload].n == 1 && has(pm.tsMs):
		return dst, Heartbeat, nil
	case sch != nil && (strings.HasSuffix(sch.name, ".Key") || strings.HasSuffix(sch.name, ".SchemaChangeKey")):
		return dst, NotSkipped, x.fail("", "a record key (schema %s), not a change event value", quoteValue(sch.name))
	case d.nodes[payload].n == 1 && has(pm.databaseName):
		return dst, NotSkipped, x.fail("", "a schema-change topic record key, not a change event value")
	}
	if payload == 0 {
		switch pm.format.looksLike(d, 0) {
		case "canal", "maxwell", "rowjson":
			return dst, NotSkipped, x.notFormat("debezium change event", `no "payload", no "op" with "source" and no string "__op"`)
		}
	}
	return x.unwrapped(dst, rec, payload, sch)
}

// payloadMembers are the members of a payload (or of an unwrapped row)
// that tell what kind of record it is: the first of each name, as
// jdoc.get finds it, or -1.
type payloadMembers struct {
	op, status, source, after, before, ddl, databaseName, tableChanges int32
	id, eventCount, dataCollections, tsMs                              int32
	// format has the members looksLike asks about, for a root without
	// payload.
	format formatMembers
}

// noPayloadMembers are the payloadMembers of an object without them.
var noPayloadMembers = payloadMembers{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, noFormatMembers}

// payloadMembers finds them in one walk over the members of p.
func (x *debeziumDecoder) payloadMembers(p int32) payloadMembers {
	d := &x.doc
	pm := noPayloadMembers
	for m := d.nodes[p].first; m >= 0; m = d.nodes[m].next {
		switch key := d.key(m); key {
		case "op":
			setFirst(&pm.op, m)
		case "status":
			setFirst(&pm.status, m)
		case "source":
			setFirst(&pm.source, m)
		case "after":
			setFirst(&pm.after, m)
		case "before":
			setFirst(&pm.before, m)
		case "ddl":
			setFirst(&pm.ddl, m)
		case "databaseName":
			setFirst(&pm.databaseName, m)
		case "tableChanges":
			setFirst(&pm.tableChanges, m)
		case "id":
			setFirst(&pm.id, m)
		case "event_count":
			setFirst(&pm.eventCount, m)
		case "data_collections":
			setFirst(&pm.dataCollections, m)
		case "ts_ms":
			setFirst(&pm.tsMs, m)
		default:
			pm.format.find(key, m)
		}
	}
	pm.format.op, pm.format.source = pm.op, pm.source
	return pm
}

// envelope decodes a change event envelope {before, after, source, op}.
func (x *debeziumDecoder) envelope(dst []Change, rec *Record, pm *payloadMembers, op string, sch *connectSchema) ([]Change, Skip, error) {
	d := &x.doc
	src := pm.source
	if k := d.kind(src); k != jObject && k != jNull {
		return dst, NotSkipped, x.fail("source", "want an object, got %s", k)
	}
	db, table, bm := x.sourceMembers(src)
	ch := Change{Database: d.stringOf(db), Table: d.stringOf(table)}
	if err := x.fillFromTopic(&ch, rec); err != nil {
		return dst, NotSkipped, err
	}
	var err error
	if ch.EventTime, err = x.eventTime(bm.tsMs, sourceKeys.tsMs, rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Pos, err = x.pos(bm, sourceKeys, rec); err != nil {
		return dst, NotSkipped, err
	}
	var image, before string
	var img int32
	b := int32(-1)
	switch op {
	case "c", "r":
		ch.Op, image, img = Insert, "after", pm.after
	case "u":
		ch.Op, image, img, before, b = Update, "after", pm.after, "before", pm.before
	case "d":
		ch.Op, image, img = Delete, "before", pm.before
	case "t":
		ch.Op = Truncate
		return append(dst, ch), NotSkipped, nil
	case "m":
		return dst, NoRowEvent, nil // a logical decoding message (PostgreSQL)
	default:
		return dst, NotSkipped, x.fail("op", "unknown operation %s", quoteValue(op))
	}
	ch.Key = x.key(rec.Key)
	if d.kind(img) != jObject {
		return dst, NotSkipped, x.fail(image, "want the row image of op %s, got %s", quoteValue(op), d.kind(img))
	}
	if ch.Columns, err = x.row(img, int(d.nodes[img].n), image, sch, false); err != nil {
		return dst, NotSkipped, err
	}
	if before != "" {
		switch d.kind(b) {
		case jObject:
			if ch.Before, err = x.row(b, int(d.nodes[b].n), before, sch, false); err != nil {
				return dst, NotSkipped, err
			}
		case jNull:
		default:
			return dst, NotSkipped, x.fail(before, "want an object, got %s", d.kind(b))
		}
	}
	return append(dst, ch), NotSkipped, nil
}

// isUnwrappedMeta reports whether a member of the flat row of
// ExtractNewRecordState named name is its metadata (add.fields,
// __deleted), not a column: its name starts with "__". unwrapped counts
// the columns by it and row, which carves that many, skips by it: one
// rule, so that a row never outgrows what was carved for it.
func isUnwrappedMeta(name string) bool { return strings.HasPrefix(name, "__") }

// unwrapped decodes the flat row of ExtractNewRecordState. Members whose
// names start with "__" are its metadata (isUnwrappedMeta).
func (x *debeziumDecoder) unwrapped(dst []Change, rec *Record, p int32, sch *connectSchema) ([]Change, Skip, error) {
	d := &x.doc
	ch := Change{Op: Update}
	// The metadata members, the first of each name as jdoc.get finds
	// them, and the number of columns, in one walk.
	var db, sourceDB, table, sourceTable, deleted int32 = -1, -1, -1, -1, -1
	src := noBinlogMembers
	columns := 0
	for m := d.nodes[p].first; m >= 0; m = d.nodes[m].next {
		key := d.key(m)
		if !isUnwrappedMeta(key) {
			columns++
			continue
		}
		switch key {
		case "__op":
			if d.nodes[m].kind != jString {
				return dst, NotSkipped, x.notFormat("debezium change event", fmt.Sprintf(`"__op" is a %s, not a string`, d.nodes[m].kind))
			}
			switch s := d.str(m); s {
			case "c", "r":
				ch.Op = Insert
			case "u":
				ch.Op = Update
			case "d":
				ch.Op = Delete
			case "t":
				ch.Op = Truncate
			default:
				return dst, NotSkipped, x.fail("__op", "unknown operation %s", quoteValue(s))
			}
		case "__db":
			setFirst(&db, m)
			ch.Database = d.stringOf(db)
		case "__source_db":
			setFirst(&sourceDB, m)
			ch.Database = d.stringOf(sourceDB)
		case "__table":
			setFirst(&table, m)
			ch.Table = d.stringOf(table)
		case "__source_table":
			setFirst(&sourceTable, m)
			ch.Table = d.stringOf(sourceTable)
		case "__deleted":
			setFirst(&deleted, m)
		case "__source_ts_ms":
			setFirst(&src.tsMs, m)
		case "__source_file":
			setFirst(&src.file, m)
		case "__source_pos":
			setFirst(&src.pos, m)
		case "__source_row":
			setFirst(&src.row, m)
		}
	}
	switch del := deleted; {
	case d.kind(del) == jTrue, d.kind(del) == jString && d.str(del) == "true":
		ch.Op = Delete
	case del >= 0 && d.kind(del) != jFalse && (d.kind(del) != jString || d.str(del) != "false"):
		return dst, NotSkipped, x.fail("__deleted", "want \"true\" or \"false\", got %s", quoteValue(d.compact(del)))
	}
	if err := x.fillFromTopic(&ch, rec); err != nil {
		return dst, NotSkipped, err
	}
	var err error
	if ch.EventTime, err = x.eventTime(src.tsMs, unwrappedKeys.tsMs, rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Pos, err = x.pos(src, unwrappedKeys, rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Op == Truncate {
		return append(dst, ch), NotSkipped, nil
	}
	ch.Key = x.key(rec.Key)
	if ch.Columns, err = x.row(p, columns, "", sch, true); err != nil {
		return dst, NotSkipped, err
	}
	return append(dst, ch), NotSkipped, nil
}

// schemaChange decodes a record of the schema-change topic into one DDL
// change per table it names.
func (x *debeziumDecoder) schemaChange(dst []Change, rec *Record, p int32) ([]Change, Skip, error) {
	d := &x.doc
	src := d.get(p, "source")
	db, _, bm := x.sourceMembers(src)
	ch := Change{Op: DDL, SQL: d.getStr(p, "ddl"), Database: d.getStr(p, "databaseName")}
	if ch.Database == "" {
		ch.Database = d.stringOf(db)
	}
	var err error
	if ch.EventTime, err = x.eventTime(bm.tsMs, sourceKeys.tsMs, rec); err != nil {
		return dst, NotSkipped, err
	}
	if ch.Pos, err = x.pos(bm, sourceKeys, rec); err != nil {
		return dst, NotSkipped, err
	}
	n := len(dst)
	if tc := d.get(p, "tableChanges"); d.kind(tc) == jArray {
		for c := d.nodes[tc].first; c >= 0; c = d.nodes[c].next {
			db, table := splitTableID(d.getStr(c, "id"))
			if table == "" {
				continue
			}
			t := ch
			t.Table = table
			if db != "" {
				t.Database = db
			}
			dst = append(dst, t)
		}
	}
	if len(dst) == n {
		for _, table := range strings.Split(d.getStr(src, "table"), ",") {
			if table = strings.TrimSpace(table); table != "" {
				t := ch
				t.Table = table
				dst = append(dst, t)
			}
		}
	}
	if len(dst) == n {
		return dst, SchemaTopic, nil
	}
	return dst, NotSkipped, nil
}

// splitTableID splits a Debezium table id, "inventory"."customers" or
// inventory.customers, into its last two parts.
func splitTableID(id string) (db, table string) {
	var parts []string
	for id != "" {
		if id[0] != '"' {
			part, rest, _ := strings.Cut(id, ".")
			parts, id = append(parts, part), rest
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(id); i++ {
			if id[i] == '"' {
				if i+1 < len(id) && id[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			b.WriteByte(id[i])
		}
		parts = append(parts, b.String())
		id = strings.TrimPrefix(id[min(i+1, len(id)):], ".")
	}
	switch len(parts) {
	case 0:
		return "", ""
	case 1:
		return "", parts[0]
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// fillFromTopic fills a missing database or table from the topic name,
// <prefix>.<db>.<table>.
func (x *debeziumDecoder) fillFromTopic(ch *Change, rec *Record) error {
	if ch.Database != "" && ch.Table != "" {
		return nil
	}
	parts := strings.Split(rec.Topic, ".")
	if len(parts) < 3 {
		return x.fail("", "no database and table in the record and topic %s is not <prefix>.<db>.<table>", quoteValue(rec.Topic))
	}
	if ch.Database == "" {
		ch.Database = parts[len(parts)-2]
	}
	if ch.Table == "" {
		ch.Table = parts[len(parts)-1]
	}
	return nil
}

// binlogMembers are the members that place a change in the binlog: the
// event time and the position (file, pos, row). Each is -1 when absent.
type binlogMembers struct {
	tsMs, file, pos, row int32
}

// noBinlogMembers are the binlogMembers of an object without them.
var noBinlogMembers = binlogMembers{-1, -1, -1, -1}

// binlogKeys name the members of binlogMembers in errors, as the
// message names them.
type binlogKeys struct {
	tsMs, file, pos, row string
}

var (
	sourceKeys    = binlogKeys{"source.ts_ms", "source.file", "source.pos", "source.row"}
	unwrappedKeys = binlogKeys{"__source_ts_ms", "__source_file", "__source_pos", "__source_row"}
)

// sourceMembers finds the members of source (the table's database and
// name, and binlogMembers) in one walk: the first of each name, as
// jdoc.get finds it, or -1.
func (x *debeziumDecoder) sourceMembers(src int32) (db, table int32, bm binlogMembers) {
	d := &x.doc
	db, table, bm = -1, -1, noBinlogMembers
	if d.kind(src) != jObject {
		return db, table, bm
	}
	for m := d.nodes[src].first; m >= 0; m = d.nodes[m].next {
		switch d.key(m) {
		case "db":
			setFirst(&db, m)
		case "table":
			setFirst(&table, m)
		case "ts_ms":
			setFirst(&bm.tsMs, m)
		case "file":
			setFirst(&bm.file, m)
		case "pos":
			setFirst(&bm.pos, m)
		case "row":
			setFirst(&bm.row, m)
		}
	}
	return db, table, bm
}

// eventTime reads epoch milliseconds from member m (field names it in
// errors); absent (-1), null or 0 (Debezium's snapshot records of old
// versions) mean the Kafka record timestamp.
func (x *debeziumDecoder) eventTime(m int32, field string, rec *Record) (time.Time, error) {
	ms, ok, err := x.intMember(m, field)
	if err != nil || !ok || ms == 0 {
		return rec.Timestamp.UTC(), err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// pos reads a binlog position from the members of bm: the file's
// sequence number, the position and the row. Without a file it is
// Pos{0, Kafka offset, row}. keys name the members in errors.
func (x *debeziumDecoder) pos(bm binlogMembers, keys binlogKeys, rec *Record) (Pos, error) {
	d := &x.doc
	row, _, err := x.intMember(bm.row, keys.row)
	if err != nil {
		return Pos{}, err
	}
	f := bm.file
	if d.kind(f) == jNull || d.kind(f) == jString && d.str(f) == "" {
		return Pos{File: 0, Offset: rec.Offset, Row: row}, nil
	}
	if d.kind(f) != jString {
		return Pos{}, x.fail(keys.file, "want a binlog file name, got %s", d.kind(f))
	}
	seq, ok := binlogSeq(d.str(f))
	if !ok {
		return Pos{}, x.fail(keys.file, "binlog file name %s has no numeric suffix", quoteValue(d.str(f)))
	}
	off, _, err := x.intMember(bm.pos, keys.pos)
	if err != nil {
		return Pos{}, err
	}
	return Pos{File: seq, Offset: off, Row: row}, nil
}

// binlogSeq returns the sequence number of a binlog file name:
// mysql-bin.000042 → 42.
func binlogSeq(name string) (int64, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || !allDigits(name[i+1:]) || i+1 == len(name) {
		return 0, false
	}
	n, err := parseInt64(name[i+1:])
	return n, err == nil
}

// intMember reads an integer member m that may be a number or a numeric
// string; ok is false when it is absent (-1) or null. key names it in
// errors.
func (x *debeziumDecoder) intMember(m int32, key string) (n int64, ok bool, err error) {
	d := &x.doc
	var s string
	switch d.kind(m) {
	case jNull:
		return 0, false, nil
	case jNumber:
		s = d.text(m)
	case jString:
		s = d.str(m)
	default:
		return 0, false, x.fail(key, "want an integer, got %s", d.kind(m))
	}
	n, perr := parseInt64(s)
	if perr != nil {
		return 0, false, x.fail(key, "want an integer, got %s", quoteValue(s))
	}
	return n, true, nil
}

// key returns the column names of the record key, {"id":1} or
// {"schema":…,"payload":{"id":1}}. A key that is not a JSON object (a
// different key converter) gives nil.
func (x *debeziumDecoder) key(raw []byte) []string {
	// keyDoc aliases raw only until the next key: the names are copied.
	if len(raw) == 0 || x.keyDoc.parse(unsafe.String(unsafe.SliceData(raw), len(raw))) != nil {
		return nil
	}
	d := &x.keyDoc
	obj := int32(0)
	if p, s := d.get(0, "payload"), d.get(0, "schema"); p >= 0 && s >= 0 && d.nodes[0].n == 2 {
		obj = p
	}
	if d.kind(obj) != jObject {
		return nil
	}
	x.keyBuf = x.keyBuf[:0]
	for m := d.nodes[obj].first; m >= 0; m = d.nodes[m].next {
		x.keyBuf = append(x.keyBuf, d.key(m))
	}
	return internKey(&x.lastKey, x.keyBuf)
}

// row converts a row image of n columns. unwrapped skips the "__"
// metadata members (isUnwrappedMeta, which n does not count).
func (x *debeziumDecoder) row(obj int32, n int, field string, sch *connectSchema, unwrapped bool) ([]Column, error) {
	d := &x.doc
	cols := x.carve(n)
	hint := 0
	// inOrder stays set while the columns are fields of the schema in its
	// order: then none can appear twice if the schema names each once.
	inOrder := sch != nil && sch.unique
	for m := d.nodes[obj].first; m >= 0; m = d.nodes[m].next {
		name := d.key(m)
		if unwrapped && isUnwrappedMeta(name) {
			continue
		}
		var f *connectField
		if sch != nil {
			prev := hint
			f, hint = sch.field(name, hint)
			// The field's index is hint-1: past the field before's.
			inOrder = inOrder && f != nil && hint > prev
		}
		// Set in place: cheaper than appending a Column built aside.
		cols = cols[:len(cols)+1]
		col := &cols[len(cols)-1]
		col.Name, col.ZeroDate = name, false
		var err error
		if f == nil {
			col.Type = schema.Type{}
			col.Value, err = untypedValue(d, m, false)
		} else {
			col.Type = f.typ
			col.Value, err = x.value(f, m)
		}
		if err != nil {
			return nil, x.fail(joinField(field, name), "%v", err)
		}
	}
	if inOrder {
		return cols, nil
	}
	if name, dup := duplicateColumn(cols); dup {
		return nil, x.fail(joinField(field, name), "column appears twice")
	}
	return cols, nil
}

// field finds a field by name, trying the one at hint first; it returns
// the hint for the next field.
func (s *connectSchema) field(name string, hint int) (*connectField, int) {
	if hint < len(s.row) && s.row[hint].name == name {
		return &s.row[hint], hint + 1
	}
	for i := range s.row {
		if s.row[i].name == name {
			return &s.row[i], i + 1
		}
	}
	return nil, hint
}

// value converts one field value by its schema.
func (x *debeziumDecoder) value(f *connectField, m int32) (schema.Value, error) {
	d := &x.doc
	n := &d.nodes[m]
	if n.kind == jNull {
		return schema.Value{}, nil
	}
	want := func(what string) (schema.Value, error) {
		return schema.Value{}, fmt.Errorf("want %s, got %s %s", what, n.kind, quoteValue(d.compact(m)))
	}
	integer := func() (int64, bool) {
		if n.kind != jNumber {
			return 0, false
		}
		i, err := parseInt64(d.text(m))
		return i, err == nil
	}
	switch f.kind {
	case dkUntyped:
		return untypedValue(d, m, false)
	case dkBool:
		switch n.kind {
		case jTrue:
			return schema.BoolValue(true), nil
		case jFalse:
			return schema.BoolValue(false), nil
		}
		return want("a boolean")
	case dkInt:
		if n.kind == jNumber {
			if v, ok := intValue(d.text(m)); ok {
				return v, nil
			}
		}
		return want("an integer")
	case dkFloat:
		switch n.kind {
		case jNumber:
			if v, err := strconv.ParseFloat(d.text(m), 64); err == nil {
				return schema.FloatValue(v), nil
			}
		case jString:
			switch s := d.str(m); s {
			case "NaN", "Infinity", "-Infinity":
				v, _ := strconv.ParseFloat(s, 64)
				return schema.FloatValue(v), nil
			}
		}
		return want("a floating-point number")
	case dkString:
		if n.kind == jString {
			return schema.StringValue(d.str(m)), nil
		}
		return want("a string")
	case dkBytes:
		if n.kind == jString {
			if b, err := base64.StdEncoding.DecodeString(d.str(m)); err == nil {
				return schema.BytesValue(b), nil
			}
		}
		return want("base64 bytes")
	case dkDecimal:
		switch n.kind {
		case jString:
			if b, err := x.unbase64(d.str(m)); err == nil {
				return schema.DecimalValue(unscaledDecimal(b, f.scale)), nil
			}
		case jNumber:
			if s, ok := plainDecimal(d.text(m)); ok {
				return schema.DecimalValue(s), nil
			}
		}
		return want("a base64 decimal")
	case dkVarDecimal:
		if n.kind == jObject {
			scale, sOK := int64(0), false
			if sm := d.get(m, "scale"); d.kind(sm) == jNumber {
				var err error
				scale, err = strconv.ParseInt(d.text(sm), 10, 32)
				sOK = err == nil && scale >= -1000 && scale <= 1000
			}
			if vm := d.get(m, "value"); sOK && d.kind(vm) == jString {
				if b, err := x.unbase64(d.str(vm)); err == nil {
					return schema.DecimalValue(unscaledDecimal(b, int(scale))), nil
				}
			}
		}
		return want(`{"scale": int, "value": base64}`)
	case dkDate:
		if i, ok := integer(); ok {
			return schema.DateDays(i), nil
		}
		return want("days since the epoch")
	case dkTimestampMs:
		if i, ok := integer(); ok && i <= math.MaxInt64/1000 && i >= math.MinInt64/1000 {
			return schema.DateTimeMicros(i * 1000), nil
		}
		return want("epoch milliseconds")
	case dkTimestampUs:
		if i, ok := integer(); ok {
			return schema.DateTimeMicros(i), nil
		}
		return want("epoch microseconds")
	case dkTimestampNs:
		if i, ok := integer(); ok {
			return schema.DateTimeMicros(floorDiv(i, 1000)), nil
		}
		return want("epoch nanoseconds")
	case dkTimeMs, dkTimeUs, dkTimeNs:
		i, ok := integer()
		switch f.kind {
		case dkTimeMs:
			ok = ok && i <= schema.MaxTimeMicros/1000 && i >= -schema.MaxTimeMicros/1000
			i *= 1000
		case dkTimeNs:
			i = floorDiv(i, 1000)
		}
		if ok && i <= schema.MaxTimeMicros && i >= -schema.MaxTimeMicros {
			return schema.TimeMicros(i), nil
		}
		return want("a time within ±838:59:59")
	case dkZoned:
		if n.kind == jString {
			if us, ok := schema.ParseZoned(d.str(m)); ok {
				return schema.TimestampMicros(us), nil
			}
		}
		return want("an ISO-8601 timestamp with an offset")
	case dkBits:
		if n.kind == jString {
			if b, err := x.unbase64(d.str(m)); err == nil {
				if u, ok := littleEndian(b); ok {
					return schema.UintValue(u), nil
				}
			}
		}
		return want("base64 little-endian bits of at most 64 bits")
	case dkGeometry:
		if n.kind == jObject {
			if w := d.get(m, "wkb"); d.kind(w) == jString {
				if b, err := base64.StdEncoding.DecodeString(d.str(w)); err == nil {
					return schema.BytesValue(b), nil
				}
			}
		}
		return want(`{"wkb": base64, "srid": int}`)
	}
	return schema.StringValue(d.compact(m)), nil // dkJSON
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// littleEndian reads up to 64 bits of little-endian bytes; longer input
// must be zero past the eighth byte.
func littleEndian(b []byte) (uint64, bool) {
	var u uint64
	for i, c := range b {
		if i >= 8 {
			if c != 0 {
				return 0, false
			}
			continue
		}
		u |= uint64(c) << (8 * i)
	}
	return u, true
}

// unbase64 decodes base64 text into a buffer the decoder reuses: for
// bytes that are read, not kept.
func (x *debeziumDecoder) unbase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.AppendDecode(x.b64[:0], unsafe.Slice(unsafe.StringData(s), len(s)))
	x.b64 = b
	return b, err
}

// unscaledDecimal renders a big-endian two's-complement unscaled integer
// with scale fraction digits as plain decimal text. It builds the text
// in buffers on the stack and allocates only the string.
func unscaledDecimal(b []byte, scale int) string {
	var digitsBuf, textBuf [48]byte
	var digits []byte
	switch {
	case len(b) == 0:
		digits = append(digitsBuf[:0], '0')
	case len(b) <= 8:
		v := int64(int8(b[0])) // sign-extend
		for _, c := range b[1:] {
			v = v<<8 | int64(c)
		}
		digits = strconv.AppendInt(digitsBuf[:0], v, 10)
	default:
		v := new(big.Int).SetBytes(b)
		if b[0]&0x80 != 0 {
			v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		digits = v.Append(digitsBuf[:0], 10)
	}
	text := textBuf[:0]
	if digits[0] == '-' {
		text, digits = append(text, '-'), digits[1:]
	}
	switch {
	case scale < 0:
		text = append(text, digits...)
		if len(digits) != 1 || digits[0] != '0' {
			text = appendZeros(text, -scale)
		}
	case scale > 0:
		if k := len(digits) - scale; k > 0 {
			text = append(text, digits[:k]...)
			text = append(text, '.')
			text = append(text, digits[k:]...)
		} else {
			text = append(text, '0', '.')
			text = appendZeros(text, -k)
			text = append(text, digits...)
		}
	default:
		text = append(text, digits...)
	}
	return string(text)
}

// appendZeros appends n zeros to b (none for n <= 0).
func appendZeros(b []byte, n int) []byte {
	for range n {
		b = append(b, '0')
	}
	return b
}

// schema returns the parsed row schema of a record's schema member, nil
// for a null or empty one. Parsed schemas are cached by their text.
func (x *debeziumDecoder) schema(s int32) (*connectSchema, error) {
	if k := x.doc.kind(s); k != jObject {
		if k == jNull {
			return nil, nil
		}
		return nil, x.fail("schema", "want an object, got %s", k)
	}
	// The message's schema member is shallow (see New): only its text.
	raw := x.doc.text(s)
	text, repeated := x.doc.shallowText(0, s)
	if repeated && text == x.lastSchemaText {
		// The schema of the message before (the same text): no look-up.
		// A repeated value's text is the same string as before, which
		// == finds equal at once, without reading the bytes. That text is
		// never "", so lastSchemaText is set, and lastSchema with it.
		return x.lastSchema, nil
	}
	x.lastSchema, x.lastSchemaText = nil, ""
	cs, err := x.parseSchema(raw)
	if cs != nil && repeated {
		x.lastSchema, x.lastSchemaText = cs, text
	}
	return cs, err
}

// parseSchema returns the row schema of a schema member's text, from the
// cache or parsed (and cached).
func (x *debeziumDecoder) parseSchema(raw string) (*connectSchema, error) {
	if cs, ok := x.schemas[raw]; ok {
		return cs, nil
	}
	d := &x.schemaDoc
	if err := d.parse(raw); err != nil {
		return nil, x.fail("schema", "%v", err)
	}
	s := int32(0)
	if d.nodes[s].n == 0 {
		return nil, nil
	}
	cs := &connectSchema{name: strings.Clone(d.getStr(s, "name"))}
	fields := d.get(s, "fields")
	// An envelope's row schema is its after (or before) struct.
	for _, image := range []string{"after", "before"} {
		if f := findField(d, fields, image); f >= 0 && d.getStr(f, "type") == "struct" {
			fields = d.get(f, "fields")
			break
		}
	}
	if k := d.kind(fields); k != jArray && k != jNull {
		return nil, x.fail("schema.fields", "want an array, got %s", k)
	}
	if d.kind(fields) == jArray {
		for f := d.nodes[fields].first; f >= 0; f = d.nodes[f].next {
			cf, err := x.connectField(d, f)
			if err != nil {
				return nil, err
			}
			cs.row = append(cs.row, cf)
		}
	}
	cs.unique = true
	for i := range cs.row {
		for j := range i {
			cs.unique = cs.unique && cs.row[i].name != cs.row[j].name
		}
	}
	pruneCache(x.schemas, 256)
	x.schemas[strings.Clone(raw)] = cs
	return cs, nil
}

func findField(d *jdoc, fields int32, name string) int32 {
	if d.kind(fields) != jArray {
		return -1
	}
	for f := d.nodes[fields].first; f >= 0; f = d.nodes[f].next {
		if d.getStr(f, "field") == name {
			return f
		}
	}
	return -1
}

// connectField reads one field schema: how to decode it and, where the
// schema says unambiguously, its MySQL type.
func (x *debeziumDecoder) connectField(d *jdoc, f int32) (connectField, error) {
	cf := connectField{name: strings.Clone(d.getStr(f, "field"))}
	if d.kind(f) != jObject || cf.name == "" {
		return cf, x.fail("schema.fields", "want field schemas with a \"field\" name, got %s", quoteValue(d.compact(f)))
	}
	params := d.get(f, "parameters")
	param := func(k string) string { return d.getStr(params, k) }
	paramInt := func(k string) (int, bool) {
		n, err := strconv.Atoi(param(k))
		return n, err == nil
	}
	typ, logical := d.getStr(f, "type"), d.getStr(f, "name")
	switch logical {
	case "org.apache.kafka.connect.data.Decimal":
		scale, ok := paramInt("scale")
		if !ok || scale < -1000 || scale > 1000 {
			return cf, x.fail("schema."+cf.name, "decimal without a valid scale parameter: %s", quoteValue(param("scale")))
		}
		cf.kind, cf.scale = dkDecimal, scale
		if p, ok := paramInt("connect.decimal.precision"); ok && p >= 1 && p <= 65 && scale >= 0 && scale <= p {
			cf.typ = schema.Type{Kind: schema.Decimal, Precision: p, Scale: scale}
		}
	case "io.debezium.data.VariableScaleDecimal":
		cf.kind = dkVarDecimal
	case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date":
		cf.kind, cf.typ = dkDate, schema.Type{Kind: schema.Date}
	case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp":
		cf.kind, cf.typ = dkTimestampMs, schema.Type{Kind: schema.DateTime, Scale: 3}
	case "io.debezium.time.MicroTimestamp":
		cf.kind, cf.typ = dkTimestampUs, schema.Type{Kind: schema.DateTime, Scale: 6}
	case "io.debezium.time.NanoTimestamp":
		cf.kind, cf.typ = dkTimestampNs, schema.Type{Kind: schema.DateTime, Scale: 6}
	case "io.debezium.time.ZonedTimestamp":
		cf.kind, cf.typ = dkZoned, schema.Type{Kind: schema.Timestamp, Scale: 6}
	case "io.debezium.time.Time", "org.apache.kafka.connect.data.Time":
		cf.kind, cf.typ = dkTimeMs, schema.Type{Kind: schema.Time, Scale: 3}
	case "io.debezium.time.MicroTime":
		cf.kind, cf.typ = dkTimeUs, schema.Type{Kind: schema.Time, Scale: 6}
	case "io.debezium.time.NanoTime":
		cf.kind, cf.typ = dkTimeNs, schema.Type{Kind: schema.Time, Scale: 6}
	case "io.debezium.time.Year":
		cf.kind, cf.typ = dkInt, schema.Type{Kind: schema.Year}
	case "io.debezium.data.Json":
		cf.kind, cf.typ = dkString, schema.Type{Kind: schema.JSON}
	case "io.debezium.data.Enum":
		cf.kind, cf.typ = dkString, schema.Type{Kind: schema.Enum, Labels: splitAllowed(param("allowed"))}
	case "io.debezium.data.EnumSet":
		cf.kind, cf.typ = dkString, schema.Type{Kind: schema.Set, Labels: splitAllowed(param("allowed"))}
	case "io.debezium.data.Bits":
		cf.kind = dkBits
		if n, ok := paramInt("length"); ok && n >= 1 && n <= 64 {
			cf.typ = schema.Type{Kind: schema.Bit, Precision: n}
		}
	default:
		if strings.HasPrefix(logical, "io.debezium.data.geometry.") {
			cf.kind = dkGeometry
			break
		}
		switch typ {
		case "boolean":
			cf.kind, cf.typ = dkBool, schema.Type{Kind: schema.Bool}
		case "int8":
			cf.kind, cf.typ = dkInt, schema.Type{Kind: schema.TinyInt}
		case "int16":
			cf.kind, cf.typ = dkInt, schema.Type{Kind: schema.SmallInt}
		case "int32":
			cf.kind, cf.typ = dkInt, schema.Type{Kind: schema.Int}
		case "int64":
			// int64 carries bigint, int unsigned and, wrapped to negative
			// in the default bigint.unsigned.handling.mode=long, bigint
			// unsigned: it says nothing certain about the column, so
			// the catalog's type (or inference) decides.
			cf.kind = dkInt
		case "float", "float32": // JsonConverter writes Connect's FLOAT32 as "float"
			cf.kind, cf.typ = dkFloat, schema.Type{Kind: schema.Float}
		case "double", "float64":
			cf.kind, cf.typ = dkFloat, schema.Type{Kind: schema.Double}
		case "string":
			cf.kind = dkString
		case "bytes":
			cf.kind = dkBytes
		case "struct", "array", "map":
			cf.kind = dkJSON
		default:
			cf.kind = dkUntyped
		}
	}
	// column.propagate.source.type names the declared type.
	if src := param("__debezium.source.column.type"); src != "" {
		if t, err := schema.ParseType(src); err == nil {
			cf.typ.Kind, cf.typ.Unsigned = t.Kind, t.Unsigned
			switch t.Kind {
			case schema.Decimal:
				p, okP := paramInt("__debezium.source.column.length")
				s, okS := paramInt("__debezium.source.column.scale")
				if okP && p >= 1 && p <= 65 {
					cf.typ.Precision = p
					if okS && s >= 0 && s <= p {
						cf.typ.Scale = s
					}
				}
			case schema.Char, schema.VarChar, schema.Binary, schema.VarBinary, schema.Bit:
				if p, ok := paramInt("__debezium.source.column.length"); ok && p >= 0 {
					cf.typ.Precision = p
				}
			}
		}
	}
	return cf, nil
}

// splitAllowed splits the allowed parameter of Enum and EnumSet. Debezium
// joins the labels with ",", so a label holding a comma cannot be told
// apart; such types are best taken from the catalog.
func splitAllowed(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.Clone(s), ",")
}
