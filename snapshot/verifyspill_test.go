package snapshot

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"

	"github.com/binlake/binlake/schema"
)

// FuzzSpillRecord: a record of verify's spill files reads back as the
// hash and key values written, whatever they are; the end of the file
// is io.EOF, and a cut record io.ErrUnexpectedEOF, never a wrong value.
func FuzzSpillRecord(f *testing.F) {
	f.Add(uint64(0), byte(schema.IntV), int64(-1), uint64(0), 0.0, "", []byte(nil), "b")
	f.Add(uint64(math.MaxUint64), byte(schema.UintV), int64(0), uint64(math.MaxUint64), math.Inf(-1), "é", []byte{0, 1}, "")
	f.Add(uint64(7), byte(schema.Null), int64(math.MinInt64), uint64(1), math.NaN(), "a\x00b", []byte{}, "two")
	f.Fuzz(func(t *testing.T, hash uint64, kind byte, i int64, u uint64, fl float64, s string, b []byte, second string) {
		if len(b) == 0 {
			b = nil // read back as nil
		}
		key := []schema.Value{
			{Kind: schema.ValueKind(kind), I: i, U: u, F: fl, S: s, B: b},
			{Kind: schema.StringV, S: second},
		}
		rec := appendSpillRecord(nil, hash, key)
		r := bufio.NewReader(bytes.NewReader(rec))
		h, got, err := readSpillRecord(r, len(key), nil)
		if err != nil {
			t.Fatal(err)
		}
		if h != hash || !sameValues(got, key) {
			t.Fatalf("read %d %#v, wrote %d %#v", h, got, hash, key)
		}
		if _, _, err := readSpillRecord(r, len(key), got[:0]); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last record: %v, want io.EOF", err)
		}
		for n := 1; n < len(rec); n++ {
			_, _, err := readSpillRecord(bufio.NewReader(bytes.NewReader(rec[:n])), len(key), nil)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("a record cut at %d of %d bytes: %v, want io.ErrUnexpectedEOF", n, len(rec), err)
			}
		}
	})
}

// sameValues compares values field by field, NaN equal to itself.
func sameValues(a, b []schema.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if math.Float64bits(x.F) != math.Float64bits(y.F) {
			return false
		}
		x.F, y.F = 0, 0
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
