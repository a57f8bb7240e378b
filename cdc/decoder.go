package cdc

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/binlake/binlake/schema"
)

// Options configures a Decoder.
type Options struct {
	// Format is the message format: "canal", "debezium", "maxwell" or
	// "rowjson".
	Format string
	// SourceLocation is the zone in which Canal formats TIMESTAMP values
	// (its JVM's zone) and in which rowjson and Maxwell timestamp strings
	// without an offset are read; nil means UTC.
	SourceLocation *time.Location
	// AESKeys decrypt messages in binlake's AES-GCM envelope and Maxwell's
	// own AES-CBC encryption: 16, 24 or 32 bytes each; none when messages
	// are not encrypted. While producers move from one key to the next,
	// messages come sealed with either: every key is tried, the one that
	// opened the previous message first. No key ever appears in an error.
	AESKeys [][]byte
	// EventTimeField names the rowjson field holding the event time; ""
	// uses the Kafka record timestamp. Other formats ignore it.
	EventTimeField string
}

// Formats lists the values Options.Format accepts.
var Formats = []string{"canal", "debezium", "maxwell", "rowjson"}

// New returns a Decoder for o.Format.
func New(o Options) (Decoder, error) {
	b := base{format: o.Format, loc: o.SourceLocation}
	if b.loc == nil {
		b.loc = time.UTC
	}
	for i, key := range o.AESKeys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("cdc: AES key %d of %d must be 16, 24 or 32 bytes, not %d", i+1, len(o.AESKeys), len(key))
		}
		gcm, err := cipher.NewGCMWithNonceSize(block, nonceSize)
		if err != nil {
			return nil, fmt.Errorf("cdc: %w", err)
		}
		b.keys = append(b.keys, cipherKey{gcm: gcm, block: block})
	}
	switch o.Format {
	case "canal":
		// sqlType is never read, mysqlType only as text.
		b.doc.shallow = []string{canalSQLType: "sqlType", canalMySQLType: "mysqlType"}
		return &canalDecoder{base: b, types: map[string]*canalTypes{}}, nil
	case "debezium":
		b.doc.shallow = []string{"schema"} // cached by its text
		return &debeziumDecoder{base: b, schemas: map[string]*connectSchema{}}, nil
	case "maxwell":
		return &maxwellDecoder{base: b}, nil
	case "rowjson":
		return &rowjsonDecoder{base: b, eventTimeField: o.EventTimeField}, nil
	}
	return nil, fmt.Errorf("cdc: unknown format %q (want canal, debezium, maxwell or rowjson)", o.Format)
}

// The indexes of Canal's shallow members in jdoc.shallow.
const (
	canalSQLType = iota
	canalMySQLType
)

// base holds what every decoder shares: the parsed message, the zone, the
// ciphers and the memory row images are carved from.
type base struct {
	format string
	loc    *time.Location
	keys   []cipherKey // none without a key
	// lastKey is the index in keys of the key that opened the last
	// encrypted message: the first one tried on the next.
	lastKey int
	doc     jdoc
	// arena holds the row images of the current message; arena[used:]
	// is free. Each Decode starts it over.
	arena []Column
	used  int
	// into is the caller's arena, set by CarveColumnsFrom: row images are
	// appended to it instead of carved from arena.
	into *[]Column
}

// CarveColumnsFrom implements Decoder.
func (b *base) CarveColumnsFrom(arena *[]Column) { b.into = arena }

// columns returns an empty slice with room for n zeroed columns, carved
// from the arena, which every Decode reuses (see Decoder: a Change is
// valid until the next Decode), or from the caller's (CarveColumnsFrom).
// The capacity is exactly n, so appending to one row's slice never
// reaches another's.
func (b *base) columns(n int) []Column {
	cols := b.carve(n)
	clear(cols[:n])
	return cols
}

// carve is columns without the zeroing: the caller sets every column it
// appends whole.
func (b *base) carve(n int) []Column {
	if b.into != nil {
		a := *b.into
		if len(a)+n > cap(a) || a == nil {
			a = make([]Column, 0, max(4096, 2*cap(a), n))
		}
		start := len(a)
		*b.into = a[:start+n]
		return a[start : start : start+n]
	}
	if b.used+n > len(b.arena) || b.arena == nil {
		// Slices carved from the old arena stay valid; the next message
		// starts in the new one. (Never from a nil arena: an image of no
		// columns is empty, not nil, whatever the decoder met before.)
		b.arena = make([]Column, max(64, 2*len(b.arena), n))
		b.used = 0
	}
	cols := b.arena[b.used : b.used : b.used+n]
	b.used += n
	return cols
}

// settle returns a decode's result, or dst as it came if the decode
// failed: a record that fails adds no changes.
func settle(dst, out []Change, skip Skip, err error) ([]Change, Skip, error) {
	if err != nil {
		return dst, NotSkipped, err
	}
	return out, skip, nil
}

var errNoKey = errors.New("encrypted message but no key configured (kafka.encryption)")

// fail returns an error naming the format, the field (if any) and what is
// wrong.
func (b *base) fail(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field == "" {
		return fmt.Errorf("%s: %s", b.format, msg)
	}
	return fmt.Errorf("%s: %s: %s", b.format, field, msg)
}

// load parses a record value into b.doc, opening the AES-GCM envelope if
// it is one, and checks that the message is a JSON object.
func (b *base) load(value []byte) error {
	b.used = 0
	if len(value) == 0 {
		return b.fail("", "empty message")
	}
	// The changes' text aliases the message instead of copying it (see
	// Decoder): most of it is dropped or copied by the caller anyway.
	if err := b.doc.parse(unsafe.String(unsafe.SliceData(value), len(value))); err != nil {
		return b.fail("", "invalid JSON: %v", err)
	}
	if isEnvelope(&b.doc) {
		if len(b.keys) == 0 {
			return fmt.Errorf("%s: %w", b.format, errNoKey)
		}
		plain, err := b.openEnvelope(&b.doc)
		if err != nil {
			return fmt.Errorf("%s: %w", b.format, err)
		}
		if err := b.doc.parse(string(plain)); err != nil {
			return b.fail("", "decrypted message: invalid JSON: %v", err)
		}
		if isEnvelope(&b.doc) {
			return b.fail("", "decrypted message is an envelope again")
		}
	}
	if k := b.doc.nodes[0].kind; k != jObject {
		return b.fail("", "message is a JSON %s, not an object", k)
	}
	return nil
}

// notFormat is the error of a message that does not look like the
// decoder's format.
func (b *base) notFormat(name, why string) error {
	msg := fmt.Sprintf("not a %s: %s", name, why)
	if other := looksLike(&b.doc, 0); other != "" && other != b.format {
		msg += " (looks like " + other + ")"
	}
	return errors.New(msg)
}

// looksLike names the format a parsed message looks like, following
// FORMATS.md "Telling them apart", or "".
func looksLike(d *jdoc, root int32) string {
	if d.kind(root) != jObject {
		return ""
	}
	fm := noFormatMembers
	for m := d.nodes[root].first; m >= 0; m = d.nodes[m].next {
		fm.find(d.key(m), m)
	}
	return fm.looksLike(d, root)
}

// formatMembers are the members looksLike asks about: the first of each
// name, as jdoc.get finds it, or -1.
type formatMembers struct {
	isDdl, data, payload, op, source, dop, typ, encrypted int32
}

// noFormatMembers are the formatMembers of an object without them.
var noFormatMembers = formatMembers{-1, -1, -1, -1, -1, -1, -1, -1}

// find notes member m, named key, if it is one of them. It calls
// setFirst once, after the switch, to stay within the compiler's inlining
// budget: it runs for every column of an unwrapped Debezium row.
func (fm *formatMembers) find(key string, m int32) {
	var at *int32
	switch key {
	case "isDdl":
		at = &fm.isDdl
	case "data":
		at = &fm.data
	case "payload":
		at = &fm.payload
	case "op":
		at = &fm.op
	case "source":
		at = &fm.source
	case "__op":
		at = &fm.dop
	case "type":
		at = &fm.typ
	case "encrypted":
		at = &fm.encrypted
	default:
		return
	}
	setFirst(at, m)
}

// looksLike is looksLike(d, root) with the members of root found.
func (fm *formatMembers) looksLike(d *jdoc, root int32) string {
	dataKind := d.kind(fm.data)
	switch {
	case isEnvelope(d):
		return "an AES-GCM envelope"
	case fm.isDdl >= 0 && (dataKind == jArray || dataKind == jNull):
		return "canal"
	case fm.payload >= 0 || fm.op >= 0 && fm.source >= 0:
		return "debezium"
	case d.kind(fm.dop) == jString:
		return "debezium (unwrapped)"
	case d.kind(fm.dop) == jNumber:
		return "rowjson"
	case d.kind(fm.typ) == jString && (dataKind == jObject || isMaxwellType(d.str(fm.typ))),
		d.nodes[root].n == 1 && fm.encrypted >= 0:
		return "maxwell"
	}
	return ""
}

// isMaxwellType reports whether s is one of the types Maxwell writes.
func isMaxwellType(s string) bool {
	switch s {
	case "insert", "update", "delete", "bootstrap-start", "bootstrap-insert", "bootstrap-complete",
		"database-create", "database-alter", "database-drop", "table-create", "table-alter", "table-drop":
		return true
	}
	return false
}

// duplicateColumn returns the name of a column that occurs twice in cols.
func duplicateColumn(cols []Column) (string, bool) {
	if distinctHashes(cols) {
		return "", false // names of the same text hash alike
	}
	if len(cols) <= 32 {
		for i := 1; i < len(cols); i++ {
			for j := 0; j < i; j++ {
				if cols[i].Name == cols[j].Name {
					return cols[i].Name, true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, len(cols))
	for _, c := range cols {
		if _, ok := seen[c.Name]; ok {
			return c.Name, true
		}
		seen[c.Name] = struct{}{}
	}
	return "", false
}

// distinctHashes reports whether the columns' names all have different
// 8-bit hashes (of their length and first, middle and last bytes), which
// proves them different: the rows of most tables pass with a few
// instructions per column, and duplicateColumn compares names pairwise
// only for the others (where two names share a hash).
func distinctHashes(cols []Column) bool {
	if len(cols) > 64 {
		return false
	}
	var seen [4]uint64
	for i := range cols {
		n := cols[i].Name
		h := uint8(len(n))
		if n != "" {
			h = h*31 + n[0]*7 + n[len(n)/2]*13 + n[len(n)-1]
		}
		w, bit := &seen[h>>6], uint64(1)<<(h&63)
		if *w&bit != 0 {
			return false
		}
		*w |= bit
	}
	return true
}

// mergeBefore returns the full before image of an update: after, with the
// columns of old (the changed columns' old values) replacing theirs and
// columns only old has appended.
func (b *base) mergeBefore(after, old []Column) []Column {
	before := b.columns(len(after) + len(old))[:len(after)]
	copy(before, after)
	for _, o := range old {
		replaced := false
		for i := range before {
			if before[i].Name == o.Name {
				before[i] = o
				replaced = true
				break
			}
		}
		if !replaced {
			before = append(before, o)
		}
	}
	return before
}

// internKey returns names as a slice, reusing last when it holds the same
// names, so that the records of one table share one Key slice. The names
// are copied: the slice outlives the message they may point into.
func internKey(last *[]string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	if len(*last) == len(names) {
		same := true
		for i := range names {
			if (*last)[i] != names[i] {
				same = false
				break
			}
		}
		if same {
			return *last
		}
	}
	k := make([]string, len(names))
	for i, n := range names {
		k[i] = strings.Clone(n)
	}
	*last = k
	return k
}

// pruneCache empties a cache map that has grown past n entries, so that a
// stream of ever-new keys cannot grow it without bound.
func pruneCache[V any](m map[string]V, n int) {
	if len(m) >= n {
		clear(m)
	}
}

// untypedRow converts the members of obj, except those skip names, by
// untypedValue with SET arrays (Maxwell, rowjson), into an image carved
// for its n columns (obj's members less those skip names).
func untypedRow(b *base, d *jdoc, obj int32, n int, field string, skip func(string) bool) ([]Column, error) {
	cols := b.carve(n)
	for m := d.nodes[obj].first; m >= 0; m = d.nodes[m].next {
		name := d.key(m)
		if skip != nil && skip(name) {
			continue
		}
		// Set in place: cheaper than appending a Column built aside.
		cols = cols[:len(cols)+1]
		col := &cols[len(cols)-1]
		col.Name, col.Type, col.ZeroDate = name, schema.Type{}, false
		var err error
		if col.Value, err = untypedValue(d, m, true); err != nil {
			return nil, b.fail(joinField(field, name), "%v", err)
		}
	}
	if name, dup := duplicateColumn(cols); dup {
		return nil, b.fail(joinField(field, name), "column appears twice")
	}
	return cols, nil
}

// joinField names a member of a row image in errors: data.id, or id.
func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
