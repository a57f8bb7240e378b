package merge

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestCompactRecords checks that a compact record (the source columns
// left out of the payload, as the key has them) comes back as the full
// record through appendFull, for sources with escaped bytes, empty and
// NULL ones, and that sourceOf reads the source of either form.
func TestCompactRecords(t *testing.T) {
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.ByteArray}, {kind: parquet.Int64}, {kind: parquet.ByteArray}}
	full := rowCodec{kinds: kinds, widths: []int{varWidth, varWidth, 8, varWidth}}
	compact := full
	compact.srcInKey = true
	bytesOrNull := func(s *string) parquet.Value {
		if s == nil {
			return parquet.Value{}
		}
		return parquet.ByteArrayValue([]byte(*s))
	}
	str := func(s string) *string { return &s }
	var cache sourceCache // shared, as by the records of a merge
	for _, c := range []struct{ db, table *string }{
		{str("shop"), str("orders")},
		{str("a\x00b\x00"), str("\x00")},
		{str(""), str("t")},
		{str("db"), nil},
		{str("shop"), str("orders")},
		{str("shop"), str("orders2")},
	} {
		cols := [][]parquet.Value{{bytesOrNull(c.db)}, {bytesOrNull(c.table)}, {parquet.Int64Value(42)}, {parquet.ByteArrayValue([]byte("note\x00x"))}}
		key := appendKeyValue(nil, encBytes, cols[0][0])
		key = appendKeyValue(key, encBytes, cols[1][0])
		key = appendKeyValue(key, encInt64, cols[2][0])
		pos := make([]byte, posLen)
		want, err := full.appendRow(appendRecordHeader(nil, key, pos, 7, opUpsert, 0), cols, 0)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := compact.appendRow(appendRecordHeader(nil, key, pos, 7, opUpsert, 0), cols, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.db != nil && c.table != nil && len(rec) >= len(want) {
			t.Errorf("%q/%q: compact record of %d bytes, full one of %d", *c.db, *c.table, len(rec), len(want))
		}
		got, err := compact.appendFull([]byte("x"), rec, &cache)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[1:], want) {
			t.Errorf("%v/%v: appendFull gives\n%q, want\n%q", c.db, c.table, got[1:], want)
		}
		if grown := len(got) - 1 - len(rec); grown > fullGrowth(len(key)) {
			t.Errorf("appendFull adds %d bytes, more than fullGrowth's %d", grown, fullGrowth(len(key)))
		}
		if same, err := full.appendFull(nil, want, &cache); err != nil || !bytes.Equal(same, want) {
			t.Errorf("appendFull of a codec without srcInKey changes the record: %q, %v", same, err)
		}
		if c.table == nil {
			continue
		}
		for _, f := range []struct {
			codec rowCodec
			rec   record
		}{{full, want}, {compact, rec}, {compact, want}} {
			db, table := f.codec.sourceOf(f.rec)
			if string(db) != *c.db || string(table) != *c.table {
				t.Errorf("sourceOf gives %q/%q, want %q/%q", db, table, *c.db, *c.table)
			}
		}
	}
}

// TestDecodeKeyBytes: byte string key values come back from their key
// encoding as they went in — with 0x00 bytes, empty, NULL — as do the
// values after them, in new memory or in a scratch buffer; a cut key is
// an error.
func TestDecodeKeyBytes(t *testing.T) {
	keys := []keyCol{{col: 0, enc: encBytes}, {col: 1, enc: encInt64}, {col: 2, enc: encBytes}}
	kinds := []physKind{{kind: parquet.ByteArray}, {kind: parquet.Int64}, {kind: parquet.ByteArray}}
	val := func(s *string) parquet.Value {
		if s == nil {
			return parquet.Value{}
		}
		return parquet.ByteArrayValue([]byte(*s))
	}
	str := func(s string) *string { return &s }
	for _, c := range []struct{ a, b *string }{
		{str("plain"), str("x")},
		{str("a\x00b\x00"), str("\x00")},
		{str(""), str("")},
		{nil, str("\x00\x01\x00\xff")},
		{str("tail\x00"), nil},
	} {
		want := []parquet.Value{val(c.a), parquet.Int64Value(-7), val(c.b)}
		var key []byte
		for i, v := range want {
			key = appendKeyValue(key, keys[i].enc, v)
		}
		var scratch []byte
		for _, sc := range []*[]byte{nil, &scratch} {
			got, err := appendDecodedKey(nil, sc, key, keys, kinds)
			if err != nil {
				t.Fatalf("%q: %v", key, err)
			}
			for i := range want {
				if got[i].IsNull() != want[i].IsNull() || !bytes.Equal(got[i].Bytes(), want[i].Bytes()) {
					t.Errorf("%q column %d: got %v, want %v", key, i, got[i], want[i])
				}
			}
		}
		for n := range len(key) - 1 {
			if _, err := decodeKey(key[:n], keys, kinds); err == nil {
				t.Errorf("%q cut to %d bytes decodes", key, n)
			}
		}
	}
}
