package cdc

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/binlake/binlake/schema"
)

// canalType is a parsed Canal mysqlType.
type canalType struct {
	typ schema.Type
	// binary marks a type schema.ParseType does not know but whose values
	// Canal sends as ISO-8859-1 text of bytes (spatial types, vector):
	// such columns become BytesV with Type Kind Unknown.
	binary bool
	// last is the previous date or time value of the column, which the
	// next value often repeats (rows changed in the same second).
	last temporalMemo
}

// temporalMemo remembers the texts of the last two date or time values
// of a column and what they became, so that the same text is not parsed
// again: rows changed in the same second repeat one, and an UPDATE's old
// value comes between them. The texts are copied: messages may be reused.
type temporalMemo struct {
	slots [2]temporalSlot
	last  int // the slot put or found last
}

type temporalSlot struct {
	text  [32]byte
	n     int // length of text; 0: nothing remembered
	value schema.Value
	zero  bool
}

// get returns what text became, if it is a remembered text.
func (m *temporalMemo) get(text string) (schema.Value, bool, bool) {
	if sl := &m.slots[m.last]; sl.holds(text) {
		return sl.value, sl.zero, true
	}
	if sl := &m.slots[1-m.last]; sl.holds(text) {
		m.last = 1 - m.last
		return sl.value, sl.zero, true
	}
	return schema.Value{}, false, false
}

func (sl *temporalSlot) holds(text string) bool {
	return sl.n != 0 && len(text) == sl.n && string(sl.text[:sl.n]) == text
}

// put remembers what text became in place of the text used longer ago;
// text longer than the memo's room is not remembered. value holds no
// pointers (a temporal value).
func (m *temporalMemo) put(text string, value schema.Value, zero bool) {
	if len(text) > len(m.slots[0].text) {
		return
	}
	m.last = 1 - m.last
	sl := &m.slots[m.last]
	sl.n = copy(sl.text[:], text)
	sl.value, sl.zero = value, zero
}

// binaryTypeNames are MySQL types outside schema.Type that hold bytes.
var binaryTypeNames = []string{
	"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
	"multipolygon", "geometrycollection", "geomcollection", "vector",
}

// canalTypes is a parsed mysqlType object and its text.
type canalTypes struct {
	text string
	cols []canalColumn
	// unique is set when no two of cols have one name (an object may
	// repeat a member).
	unique bool
}

type canalColumn struct {
	name string
	t    canalType
}

// canalDecoder decodes Canal flatMessages (canal.mq.flatMessage=true).
type canalDecoder struct {
	base
	types map[string]*canalTypes // parsed mysqlType objects by their text
	cols  []canalColumn          // this message's mysqlType, in order; shared with types
	// colsUnique is set when no two of cols have one name: a row whose
	// columns are cols in order has no column twice.
	colsUnique bool
	// last is what cols came from: a message repeating its text needs no
	// look-up in types.
	last *canalTypes
	// typeDoc parses a mysqlType object the cache does not hold yet: in
	// the message it is read as text only.
	typeDoc jdoc
	keyBuf  []string
	lastKey []string
	// lastKeyText is the pkNames text lastKey came from, if lastKey is
	// not nil: a message repeating it has the same key.
	lastKeyText string
	// order[i] is the index in canalKeys of the i-th root member of the
	// last message scan read, -1 for one not in canalKeys.
	order [16]int8
	// flat[0] and flat[1] are the rows of data and old as scan read them
	// (flatRows), when flatOK says it did; changes types them then.
	flat   [2][]flatRow
	flatOK [2]bool
	// members are the members of the rows in flat, in order.
	members []flatMember
}

// flatRow is a row image scan read without building nodes: its members
// are members[start:start+n]; null marks a null row (old's rows of
// columns that did not change are null).
type flatRow struct {
	start, n int32
	null     bool
}

// flatMember is one member of a flat row: the offsets of its name and of
// its value's text in the message, as in jnode.
type flatMember struct {
	keyOff, keyLen int32
	off, end       int32
	kind           jkind
	esc            bool
}

// errNotFlat stops scan at rows that are not arrays of objects of
// scalar members with plain names: the whole parse reads those.
var errNotFlat = errors.New("not flat rows")

// Decode implements Decoder. A message is first read by scan, which builds
// nodes only for the members the decoder reads; a message scan does not
// take, and one that fails, is parsed whole by decodeDOM, whose error is
// the one returned. Both read every message they take to the same
// changes.
func (c *canalDecoder) Decode(dst []Change, rec *Record) ([]Change, Skip, error) {
	m := noCanalMembers
	if c.scan(rec.Value, &m) {
		if out, skip, err := c.changes(dst, rec, &m); err == nil {
			return out, skip, nil
		}
	}
	out, skip, err := c.decodeDOM(dst, rec)
	return settle(dst, out, skip, err)
}

// canalMembers are the nodes of the root members of a flatMessage the
// decoder reads, by the m constants, -1 for an absent member. A member
// that appears twice is its last value.
type canalMembers [nMembers]int32

const (
	mData = iota
	mOld
	mMySQLType
	mPkNames
	mEs
	mIsDdl
	mType
	mDatabase
	mTable
	mSQL
	nMembers
)

var noCanalMembers = canalMembers{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// canalKey is a root member Canal writes: its name as it appears in a
// compact message, quoted and followed by the colon, and its m constant,
// or noMember for one the decoder does not read.
type canalKey struct {
	quoted string
	member int
	// words are quoted's first sixteen bytes as two little-endian words,
	// zero past its end, and masks select its bytes in them.
	words, masks [2]uint64
}

// newCanalKey returns the key of root member quoted (`"name":`), at most
// sixteen bytes.
func newCanalKey(quoted string, member int) canalKey {
	k := canalKey{quoted: quoted, member: member}
	for i := 0; i < len(quoted); i++ {
		k.words[i/8] |= uint64(quoted[i]) << (8 * (i % 8))
		k.masks[i/8] |= 0xff << (8 * (i % 8))
	}
	return k
}

// match reports whether sixteen bytes whose little-endian words are w0
// and w1 start with k.quoted.
func (k *canalKey) match(w0, w1 uint64) bool {
	return w0&k.masks[0] == k.words[0] && w1&k.masks[1] == k.words[1]
}

const noMember = -1

// canalKeys are the root members of a flatMessage; canalKeyIndex finds
// them by name.
var canalKeys = [...]canalKey{
	newCanalKey(`"data":`, mData), newCanalKey(`"database":`, mDatabase), newCanalKey(`"es":`, mEs), newCanalKey(`"id":`, noMember),
	newCanalKey(`"isDdl":`, mIsDdl), newCanalKey(`"mysqlType":`, mMySQLType), newCanalKey(`"old":`, mOld), newCanalKey(`"pkNames":`, mPkNames),
	newCanalKey(`"sql":`, mSQL), newCanalKey(`"sqlType":`, noMember), newCanalKey(`"table":`, mTable), newCanalKey(`"ts":`, noMember),
	newCanalKey(`"type":`, mType), newCanalKey(`"gtid":`, noMember),
}

// keySQLType is the index of sqlType in canalKeys.
const keySQLType = 9

// canalKeyIndex returns the index of root member name in canalKeys, or -1.
func canalKeyIndex(name string) int {
	switch name {
	case "data":
		return 0
	case "database":
		return 1
	case "es":
		return 2
	case "id":
		return 3
	case "isDdl":
		return 4
	case "mysqlType":
		return 5
	case "old":
		return 6
	case "pkNames":
		return 7
	case "sql":
		return 8
	case "sqlType":
		return keySQLType
	case "table":
		return 10
	case "ts":
		return 11
	case "type":
		return 12
	case "gtid":
		return 13
	}
	return -1
}

// decodeDOM decodes a message parsed whole, as base.load parses it.
func (c *canalDecoder) decodeDOM(dst []Change, rec *Record) ([]Change, Skip, error) {
	if err := c.load(rec.Value); err != nil {
		return dst, NotSkipped, err
	}
	c.flatOK = [2]bool{}
	d := &c.doc
	m := noCanalMembers
	for n := d.nodes[0].first; n >= 0; n = d.nodes[n].next {
		if k := canalKeyIndex(d.key(n)); k >= 0 && canalKeys[k].member != noMember {
			m[canalKeys[k].member] = n
		}
	}
	return c.changes(dst, rec, &m)
}

// scan parses value into c.doc as far as the decoder reads it: the root
// object gets no child links, a member the decoder does not read gets no
// node (its value is checked all the same), and m gets the nodes of the
// others. It reports false, leaving the message to decodeDOM, for any
// message parse would reject and for those it does not take: a root key
// with escapes, and fewer than three members (a flatMessage has more; an
// AES-GCM envelope has two). A message scan takes, parse takes too.
//
// The rows of data and old are read flat (rowsValue): their members go
// to c.members without nodes, and changes types them.
//
// Messages list their members in one order: where the previous message
// had a member of canalKeys, the name is first looked for as it would
// appear in a compact message (c.order).
func (c *canalDecoder) scan(value []byte, m *canalMembers) bool {
	c.used = 0
	c.flatOK = [2]bool{}
	c.members = c.members[:0]
	d := &c.doc
	s := unsafe.String(unsafe.SliceData(value), len(value))
	d.src = s
	d.nodes = d.nodes[:0]
	d.escKeys = d.escKeys[:0]
	if len(s) > math.MaxInt32 {
		return false // scanString checks that strings are UTF-8
	}
	start := skipSpace(s, 0)
	if start >= len(s) || s[start] != '{' {
		return false
	}
	root := d.add(jObject)
	var n int32
	p := skipSpace(s, start+1)
	for {
		k := -1
		if int(n) < len(c.order) {
			if o := c.order[n]; o >= 0 && (len(s)-p >= 16 && canalKeys[o].match(load64(s, p), load64(s, p+8)) ||
				len(s)-p < 16 && strings.HasPrefix(s[p:], canalKeys[o].quoted)) {
				k = int(o)
				p += len(canalKeys[o].quoted)
			}
		}
		if k < 0 {
			if p >= len(s) || s[p] != '"' {
				if p = skipSpace(s, p); p >= len(s) || s[p] != '"' {
					return false
				}
			}
			end, esc, err := scanString(s, p)
			if err != nil || esc {
				return false
			}
			k = canalKeyIndex(s[p+1 : end-1])
			if int(n) < len(c.order) {
				c.order[n] = int8(k)
			}
			if p = end; p >= len(s) || s[p] != ':' {
				if p = skipSpace(s, p); p >= len(s) || s[p] != ':' {
					return false
				}
			}
			p++
		}
		var q int
		var err error
		switch {
		case k < 0:
			q, err = skipValue(s, skipSpace(s, p), 2)
		case k == keySQLType: // never read
			q, err = d.shallowEnd(skipSpace(s, p), 1, canalSQLType)
		case canalKeys[k].member == mMySQLType:
			m[mMySQLType], q, err = d.shallowValue(skipSpace(s, p), 1, canalMySQLType)
		case canalKeys[k].member == mData || canalKeys[k].member == mOld:
			m[canalKeys[k].member], q, err = c.rowsValue(skipSpace(s, p), canalKeys[k].member-mData)
		case canalKeys[k].member != noMember:
			m[canalKeys[k].member], q, err = d.value(p, 1)
		default:
			q, err = skipValue(s, skipSpace(s, p), 2)
		}
		if err != nil {
			return false
		}
		n++
		at, next := afterItem(s, q)
		if next == ',' {
			p = at + 1
			continue
		}
		if next != '}' {
			return false
		}
		d.setText(root, start, at+1)
		d.nodes[root].n = n
		return n >= 3 && skipSpace(s, at+1) == len(s)
	}
}

// rowsValue reads the value of data (f 0) or old (f 1) at s[p]. An array
// of objects of scalar members with plain names, or of nulls — Canal's
// rows — gets a node of its own only, with n its number of rows, and its
// rows go to c.flat[f] for changes to type once mysqlType is known
// (mysqlType comes after data); it is checked as value checks it. Any
// other array stops scan (errNotFlat), and other values are read by value.
func (c *canalDecoder) rowsValue(p, f int) (int32, int, error) {
	d := &c.doc
	s := d.src
	c.flatOK[f] = false
	if p >= len(s) || s[p] != '[' {
		return d.value(p, 1)
	}
	start := p
	rows := c.flat[f][:0]
	// p ends at the closing bracket.
	if p = skipSpace(s, p+1); p >= len(s) || s[p] != ']' {
		for {
			var err error
			var row flatRow
			if row, p, err = c.flatRow(p); err != nil {
				return 0, 0, err
			}
			rows = append(rows, row)
			at, next := afterItem(s, p)
			if next == ',' {
				p = skipSpace(s, at+1)
				continue
			}
			if next != ']' {
				return 0, 0, errNotFlat
			}
			p = at
			break
		}
	}
	i := d.add(jArray)
	d.setText(i, start, p+1)
	d.nodes[i].n = int32(len(rows))
	c.flat[f], c.flatOK[f] = rows, true
	return i, p + 1, nil
}

// flatRow reads the row at s[p], an object or null, into c.members, and
// returns the offset after it.
func (c *canalDecoder) flatRow(p int) (flatRow, int, error) {
	s := c.doc.src
	row := flatRow{start: int32(len(c.members))}
	if strings.HasPrefix(s[p:], "null") {
		row.null = true
		return row, p + 4, nil
	}
	if p >= len(s) || s[p] != '{' {
		return row, 0, errNotFlat
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == '}' {
		return row, p + 1, nil
	}
	for {
		if p >= len(s) || s[p] != '"' {
			if p = skipSpace(s, p); p >= len(s) || s[p] != '"' {
				return row, 0, errNotFlat
			}
		}
		end, esc, err := scanString(s, p)
		if err != nil || esc {
			return row, 0, errNotFlat
		}
		fm := flatMember{keyOff: int32(p + 1), keyLen: int32(end - 1 - (p + 1))}
		if p = end; p >= len(s) || s[p] != ':' {
			if p = skipSpace(s, p); p >= len(s) || s[p] != ':' {
				return row, 0, errNotFlat
			}
		}
		if p = p + 1; p < len(s) && s[p] != '"' {
			p = skipSpace(s, p)
		}
		if p >= len(s) {
			return row, 0, errNotFlat
		}
		switch ch := s[p]; {
		case ch == '"':
			if end, fm.esc, err = scanString(s, p); err != nil {
				return row, 0, err
			}
			fm.kind, fm.off, fm.end = jString, int32(p+1), int32(end-1)
		case ch == '-' || ch >= '0' && ch <= '9':
			if end, err = scanNumber(s, p); err != nil {
				return row, 0, err
			}
			fm.kind, fm.off, fm.end = jNumber, int32(p), int32(end)
		case strings.HasPrefix(s[p:], "null"):
			fm.kind, end = jNull, p+4
		case strings.HasPrefix(s[p:], "true"):
			fm.kind, end = jTrue, p+4
		case strings.HasPrefix(s[p:], "false"):
			fm.kind, end = jFalse, p+5
		default:
			return row, 0, errNotFlat
		}
		c.members = append(c.members, fm)
		row.n++
		at, next := afterItem(s, end)
		if next == ',' {
			p = at + 1
			continue
		}
		if next == '}' {
			return row, at + 1, nil
		}
		return row, 0, errNotFlat
	}
}

// changes decodes the message whose root members m names.
func (c *canalDecoder) changes(dst []Change, rec *Record, m *canalMembers) ([]Change, Skip, error) {
	d := &c.doc
	data, old, mysqlType, pkNames, es, isDdl, typ := m[mData], m[mOld], m[mMySQLType], m[mPkNames], m[mEs], m[mIsDdl], m[mType]
	ch := Change{Database: d.stringOf(m[mDatabase]), Table: d.stringOf(m[mTable]), SQL: d.stringOf(m[mSQL])}
	if isDdl < 0 {
		return dst, NotSkipped, c.notFormat("canal flatMessage", `no "isDdl" field`)
	}
	if data < 0 {
		return dst, NotSkipped, c.notFormat("canal flatMessage", `no "data" field`)
	}
	ddl := d.nodes[isDdl].kind == jTrue
	if !ddl && d.nodes[isDdl].kind != jFalse {
		return dst, NotSkipped, c.fail("isDdl", "want a boolean, got %s", d.nodes[isDdl].kind)
	}
	if d.kind(typ) != jString {
		return dst, NotSkipped, c.fail("type", "want a string, got %s", d.kind(typ))
	}
	ch.EventTime = rec.Timestamp.UTC()
	if d.kind(es) != jNull {
		ms, err := parseInt64(d.text(es))
		if d.nodes[es].kind != jNumber || err != nil {
			return dst, NotSkipped, c.fail("es", "want epoch milliseconds, got %s", quoteValue(d.text(es)))
		}
		ch.EventTime = time.UnixMilli(ms).UTC()
	}
	ch.Pos = Pos{File: 0, Offset: rec.Offset}

	t := d.str(typ)
	switch t {
	case "INSERT":
		ch.Op = Insert
	case "UPDATE":
		ch.Op = Update
	case "DELETE":
		ch.Op = Delete
	case "TRUNCATE":
		ch.Op = Truncate
		return append(dst, ch), NotSkipped, nil
	case "QUERY":
		if !ddl {
			// A statement Canal passed through as text; not a schema change.
			return dst, NoRowEvent, nil
		}
		ch.Op = DDL
		return append(dst, ch), NotSkipped, nil
	case "CREATE", "ALTER", "ERASE", "RENAME", "CINDEX", "DINDEX":
		ch.Op = DDL
		return append(dst, ch), NotSkipped, nil
	case "GTID":
		return dst, NoRowEvent, nil
	case "XACOMMIT", "XAROLLBACK":
		return dst, TxMarker, nil
	case "MHEARTBEAT":
		return dst, Heartbeat, nil
	default:
		return dst, NotSkipped, c.fail("type", "unknown event type %s", quoteValue(t))
	}
	if ddl {
		return dst, NotSkipped, c.fail("isDdl", "true on a %s event", t)
	}
	ch.SQL = ""
	if d.nodes[data].kind != jArray {
		return dst, NotSkipped, c.fail("data", "want an array of rows on a %s event, got %s", t, d.nodes[data].kind)
	}
	if d.nodes[data].n == 0 {
		return dst, NoRowEvent, nil
	}
	hasOld := ch.Op == Update && d.kind(old) != jNull
	if hasOld && (d.nodes[old].kind != jArray || d.nodes[old].n != d.nodes[data].n) {
		return dst, NotSkipped, c.fail("old", "want an array of %d rows like data, got %s", d.nodes[data].n, quoteValue(d.compact(old)))
	}
	if err := c.loadTypes(mysqlType); err != nil {
		return dst, NotSkipped, err
	}
	key, err := c.key(pkNames)
	if err != nil {
		return dst, NotSkipped, err
	}
	ch.Key = key
	if c.flatOK[0] {
		return c.flatChanges(dst, ch, hasOld)
	}
	o := int32(-1)
	if hasOld {
		o = d.nodes[old].first
	}
	row := 0
	for r := d.nodes[data].first; r >= 0; r = d.nodes[r].next {
		rc := ch
		rc.Pos.Row = int64(row)
		if rc.Columns, err = c.row(r, "data", row); err != nil {
			return dst, NotSkipped, err
		}
		if o >= 0 {
			if d.nodes[o].kind != jNull {
				oldCols, err := c.row(o, "old", row)
				if err != nil {
					return dst, NotSkipped, err
				}
				rc.Before = c.mergeBefore(rc.Columns, oldCols)
			}
			o = d.nodes[o].next
		}
		dst = append(dst, rc)
		row++
	}
	return dst, NotSkipped, nil
}

// flatChanges appends a change per row of data as scan read them
// (c.flat), ch filled in but for the row.
func (c *canalDecoder) flatChanges(dst []Change, ch Change, hasOld bool) ([]Change, Skip, error) {
	data, old := c.flat[0], c.flat[1]
	if hasOld && !c.flatOK[1] {
		return dst, NotSkipped, errNotFlat // cannot happen: old is an array (of data's length)
	}
	var err error
	for row := range data {
		rc := ch
		rc.Pos.Row = int64(row)
		if rc.Columns, err = c.flatColumns(data[row], "data", row); err != nil {
			return dst, NotSkipped, err
		}
		if hasOld && !old[row].null {
			oldCols, err := c.flatColumns(old[row], "old", row)
			if err != nil {
				return dst, NotSkipped, err
			}
			rc.Before = c.mergeBefore(rc.Columns, oldCols)
		}
		dst = append(dst, rc)
	}
	return dst, NotSkipped, nil
}

// flatColumns converts flat row r, the row-th of field (data or old), as
// row converts a row's nodes.
func (c *canalDecoder) flatColumns(r flatRow, field string, row int) ([]Column, error) {
	if r.null {
		return nil, c.fail(fmt.Sprintf("%s[%d]", field, row), "want an object, got %s", jNull)
	}
	s := c.doc.src
	cols := c.carve(int(r.n))[:r.n]
	// inOrder stays set while the row's columns are columns of mysqlType
	// in its order (all of them in data, the changed ones in old): then
	// none can appear twice if mysqlType names each once. prev is the
	// index in c.cols of the row's previous column.
	inOrder, prev := c.colsUnique, -1
	for j := range cols {
		fm := &c.members[int(r.start)+j]
		col := &cols[j]
		name := sub(s, fm.keyOff, fm.keyOff+fm.keyLen)
		// Where mysqlType names a column twice, inOrder is not set and
		// the look-up is typeOf's.
		from := 0
		if inOrder {
			from = prev + 1
		}
		i := c.colIndex(name, j, from)
		t := &untyped
		if i >= 0 {
			t = &c.cols[i].t
		}
		inOrder = inOrder && i > prev
		prev = i
		// canalValue sets Value unless it fails, and ZeroDate if it is set.
		col.Name, col.Type, col.ZeroDate = name, t.typ, false
		var v string
		switch fm.kind {
		case jNull:
			col.Value = schema.Value{}
			continue
		case jString:
			if v = sub(s, fm.off, fm.end); fm.esc {
				v = unescape(v)
			}
		case jNumber:
			v = sub(s, fm.off, fm.end)
		case jTrue:
			v = "1"
		case jFalse:
			v = "0"
		}
		if err := canalValue(t, v, c.loc, col); err != nil {
			return nil, c.fail(fmt.Sprintf("%s[%d].%s", field, row, col.Name), "%v", err)
		}
	}
	if inOrder {
		return cols, nil
	}
	if name, dup := duplicateColumn(cols); dup {
		return nil, c.fail(fmt.Sprintf("%s[%d].%s", field, row, name), "column appears twice")
	}
	return cols, nil
}

// sub is s[from:to] without the bounds checks, for offsets flatRow took
// from s.
func sub(s string, from, to int32) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), from)), to-from)
}

// loadTypes points c.cols at the column types of the message's mysqlType
// object. Parsed objects are cached by their text: every message of a
// table (and of its shards) repeats the same one.
func (c *canalDecoder) loadTypes(mysqlType int32) error {
	d := &c.doc
	switch d.kind(mysqlType) {
	case jNull:
		c.cols, c.colsUnique = nil, true
		return nil
	case jObject:
	default:
		return c.fail("mysqlType", "want an object, got %s", d.nodes[mysqlType].kind)
	}
	raw := d.text(mysqlType)
	if c.last != nil && raw == c.last.text {
		c.cols, c.colsUnique = c.last.cols, c.last.unique
		return nil
	}
	if ts, ok := c.types[raw]; ok {
		c.cols, c.colsUnique, c.last = ts.cols, ts.unique, ts
		return nil
	}
	d = &c.typeDoc
	if err := d.parse(raw); err != nil {
		return c.fail("mysqlType", "%v", err) // checked with the message: cannot happen
	}
	cols := make([]canalColumn, 0, d.nodes[0].n)
	for m := d.nodes[0].first; m >= 0; m = d.nodes[m].next {
		name := d.key(m)
		if d.nodes[m].kind != jString {
			return c.fail("mysqlType."+name, "want a string, got %s", d.nodes[m].kind)
		}
		s := d.str(m)
		var t canalType
		typ, err := schema.ParseType(s)
		if err != nil {
			base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "(")
			if !slices.Contains(binaryTypeNames, strings.TrimSpace(base)) {
				return c.fail("mysqlType."+name, "%v", err)
			}
			t.binary = true
		}
		t.typ = typ
		cols = append(cols, canalColumn{name: strings.Clone(name), t: t})
	}
	pruneCache(c.types, 4096)
	ts := &canalTypes{text: strings.Clone(raw), cols: cols, unique: uniqueNames(cols)}
	c.types[ts.text] = ts
	c.cols, c.colsUnique, c.last = cols, ts.unique, ts
	return nil
}

// uniqueNames reports whether no two of cols have one name.
func uniqueNames(cols []canalColumn) bool {
	seen := make(map[string]bool, len(cols))
	for _, col := range cols {
		if seen[col.name] {
			return false
		}
		seen[col.name] = true
	}
	return true
}

// colIndex returns the index in c.cols of column name, the j-th of its
// row, or -1 if there is none. mysqlType usually lists the columns in row
// order: it looks at index j first, then from index from on, then before
// it.
func (c *canalDecoder) colIndex(name string, j, from int) int {
	if j < len(c.cols) && c.cols[j].name == name {
		return j
	}
	from = min(from, len(c.cols))
	for i := from; i < len(c.cols); i++ {
		if c.cols[i].name == name {
			return i
		}
	}
	for i := range from {
		if c.cols[i].name == name {
			return i
		}
	}
	return -1
}

// typeOf returns the type of column name, the j-th of its row (see
// colIndex).
func (c *canalDecoder) typeOf(name string, j int) *canalType {
	if i := c.colIndex(name, j, 0); i >= 0 {
		return &c.cols[i].t
	}
	return &untyped
}

// untyped is the type of a column mysqlType does not list: its values stay
// text. Read only.
var untyped canalType

func (c *canalDecoder) key(pkNames int32) ([]string, error) {
	d := &c.doc
	switch d.kind(pkNames) {
	case jNull:
		return nil, nil
	case jArray:
	default:
		return nil, c.fail("pkNames", "want an array of column names, got %s", d.nodes[pkNames].kind)
	}
	if raw := d.text(pkNames); c.lastKey != nil && raw == c.lastKeyText {
		return c.lastKey, nil
	}
	c.keyBuf = c.keyBuf[:0]
	for m := d.nodes[pkNames].first; m >= 0; m = d.nodes[m].next {
		if d.nodes[m].kind != jString {
			return nil, c.fail("pkNames", "want an array of column names, got %s", quoteValue(d.text(pkNames)))
		}
		c.keyBuf = append(c.keyBuf, d.str(m))
	}
	key := internKey(&c.lastKey, c.keyBuf)
	if key != nil { // then it is c.lastKey
		c.lastKeyText = strings.Clone(d.text(pkNames))
	}
	return key, nil
}

// row converts row image r, the row-th of field (data or old).
func (c *canalDecoder) row(r int32, field string, row int) ([]Column, error) {
	d := &c.doc
	if d.nodes[r].kind != jObject {
		return nil, c.fail(fmt.Sprintf("%s[%d]", field, row), "want an object, got %s", d.nodes[r].kind)
	}
	cols := c.carve(int(d.nodes[r].n))
	j := 0
	for m := d.nodes[r].first; m >= 0; m = d.nodes[m].next {
		cols = cols[:j+1]
		col := &cols[j]
		name := d.key(m)
		t := c.typeOf(name, j)
		*col = Column{Name: name, Type: t.typ}
		if err := c.value(t, m, col); err != nil {
			return nil, c.fail(fmt.Sprintf("%s[%d].%s", field, row, col.Name), "%v", err)
		}
		j++
	}
	if name, dup := duplicateColumn(cols); dup {
		return nil, c.fail(fmt.Sprintf("%s[%d].%s", field, row, name), "column appears twice")
	}
	return cols, nil
}

// value sets col's Value (and ZeroDate) from node m.
func (c *canalDecoder) value(t *canalType, m int32, col *Column) error {
	var s string
	switch k := c.doc.nodes[m].kind; k {
	case jNull:
		return nil
	case jString:
		s = c.doc.str(m)
	case jNumber:
		s = c.doc.text(m)
	case jTrue:
		s = "1"
	case jFalse:
		s = "0"
	default:
		return fmt.Errorf("want a string, got %s %s", k, quoteValue(c.doc.text(m)))
	}
	return canalValue(t, s, c.loc, col)
}

// canalValue sets col's Value from one Canal value, text as Canal's MySQL
// driver wrote it, by its column's declared type.
func canalValue(t *canalType, s string, loc *time.Location, col *Column) error {
	bad := func(what string) error {
		return fmt.Errorf("invalid %s %s", what, quoteValue(s))
	}
	var err error
	switch t.typ.Kind {
	case schema.Unknown:
		if !t.binary {
			col.Value = schema.StringValue(s)
			return nil
		}
		b, ok := latin1(s)
		if !ok {
			return bad("ISO-8859-1 bytes (a character above U+00FF)")
		}
		col.Value = schema.BytesValue(b)
	case schema.TinyInt, schema.SmallInt, schema.MediumInt, schema.Int, schema.BigInt, schema.Year:
		var ok bool
		if col.Value, ok = intValue(s); !ok {
			return bad(t.typ.Kind.String())
		}
	case schema.Bool:
		switch s {
		case "1", "true":
			col.Value = schema.BoolValue(true)
		case "0", "false":
			col.Value = schema.BoolValue(false)
		default:
			return bad("boolean")
		}
	case schema.Bit:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return bad("bit value")
		}
		col.Value = schema.UintValue(u)
	case schema.Decimal:
		// MySQL writes the column's own form, which needs no checks after.
		if schema.CanonicalDecimal(&col.Value, s, &t.typ) {
			return nil
		}
		d, ok := plainDecimal(s)
		if !ok {
			return bad("decimal")
		}
		col.Value = schema.DecimalValue(d)
	case schema.Float, schema.Double:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad(t.typ.Kind.String())
		}
		col.Value = schema.FloatValue(f)
	case schema.Date, schema.DateTime, schema.Timestamp, schema.Time:
		// MySQL's text; TIMESTAMP in Canal's zone. Full precision: the
		// column's own scale applies when the row is typed.
		var ok bool
		if col.Value, col.ZeroDate, ok = t.last.get(s); ok {
			return nil
		}
		if col.Value, col.ZeroDate, err = schema.Coerce(schema.StringValue(s), schema.Type{Kind: t.typ.Kind, Scale: 6}, schema.CoerceOptions{Zone: loc}); err != nil {
			return bad(t.typ.Kind.String())
		}
		t.last.put(s, col.Value, col.ZeroDate)
	case schema.Enum:
		col.Value, err = enumValue(t.typ, s)
	case schema.Set:
		col.Value, err = setValue(t.typ, s)
	case schema.Binary, schema.VarBinary, schema.Blob:
		b, ok := latin1(s)
		if !ok {
			return bad("ISO-8859-1 bytes (a character above U+00FF)")
		}
		col.Value = schema.BytesValue(b)
	default:
		col.Value = schema.StringValue(s)
	}
	return err
}

// enumValue maps Canal's 1-based ENUM index to its label. Index 0 is
// MySQL's own value for an invalid enum value and maps to its label, the
// empty string. A value that is not a number but is one of the labels is
// taken as the label.
func enumValue(t schema.Type, s string) (schema.Value, error) {
	idx, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil && slices.Contains(t.Labels, s):
		return schema.StringValue(s), nil
	case err != nil:
		return schema.Value{}, fmt.Errorf("enum value %s is neither an index nor a label of %s", quoteValue(s), t)
	case idx == 0:
		return schema.StringValue(""), nil
	case idx > uint64(len(t.Labels)):
		return schema.Value{}, fmt.Errorf("enum index %d out of range for %s", idx, t)
	}
	return schema.StringValue(t.Labels[idx-1]), nil
}

// setValue maps Canal's SET bitmask (bit i = the i-th member) to the
// members' labels joined by ",", MySQL's own text form. A value that is not
// a number but consists of labels is taken as that text.
func setValue(t schema.Type, s string) (schema.Value, error) {
	mask, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		for _, l := range strings.Split(s, ",") {
			if !slices.Contains(t.Labels, l) && s != "" {
				return schema.Value{}, fmt.Errorf("set value %s is neither a bitmask nor labels of %s", quoteValue(s), t)
			}
		}
		return schema.StringValue(s), nil
	}
	if bits.Len64(mask) > len(t.Labels) {
		return schema.Value{}, fmt.Errorf("set bitmask %d has bits beyond the %d members of %s", mask, len(t.Labels), t)
	}
	var b strings.Builder
	first := true
	for i := 0; mask != 0; i++ {
		if mask&1 != 0 {
			if !first {
				b.WriteByte(',')
			}
			b.WriteString(t.Labels[i])
			first = false
		}
		mask >>= 1
	}
	return schema.StringValue(b.String()), nil
}
