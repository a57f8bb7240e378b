package cdc

import (
	"testing"
	"unsafe"
)

// benchCases are the messages of the benchmarks, realistic rows of each
// format and form, with the options and record they are decoded with. A
// case named format/form is benchmark BenchmarkDecode<Format>/form (see
// benchFormat), one named format alone BenchmarkDecode<Format>.
func benchCases(t testing.TB) []struct {
	name string
	o    Options
	rec  *Record
} {
	shanghai := mustLoc(t, "Asia/Shanghai")
	canal := func(msg string) *Record { return &Record{Topic: "binlog_shop", Value: []byte(msg)} }
	dbz := func(msg string) *Record {
		return &Record{Topic: "dbserver1.shop_3.orders_03", Key: []byte(`{"id":1001}`), Value: []byte(msg)}
	}
	return []struct {
		name string
		o    Options
		rec  *Record
	}{
		{"canal/full", Options{Format: "canal", SourceLocation: shanghai}, canal(benchCanal)},
		{"canal/300B", Options{Format: "canal", SourceLocation: shanghai}, canal(benchCanalSmall)},
		{"canal/narrow", Options{Format: "canal", SourceLocation: shanghai}, canal(benchCanalNarrow)},
		{"canal/narrowUpdate", Options{Format: "canal", SourceLocation: shanghai}, canal(benchCanalNarrowUpdate)},
		{"debezium/schema", Options{Format: "debezium"}, dbz(benchDebeziumWithSchema)},
		{"debezium/noSchema", Options{Format: "debezium"}, dbz(benchDebeziumNoSchema)},
		{"debezium/unwrapped", Options{Format: "debezium"}, dbz(benchDebeziumUnwrapped)},
		{"maxwell/insert", Options{Format: "maxwell", SourceLocation: shanghai}, &Record{Topic: "maxwell", Value: []byte(benchMaxwell)}},
		{"maxwell/update", Options{Format: "maxwell", SourceLocation: shanghai}, &Record{Topic: "maxwell", Value: []byte(benchMaxwellUpdate)}},
		{"rowjson", Options{Format: "rowjson", SourceLocation: shanghai, EventTimeField: "updated_at"}, &Record{Topic: "rows", Value: []byte(benchRowjson)}},
	}
}

// TestRowImagesCarved checks that every decoder carves its row images
// from the caller's arena (CarveColumnsFrom), and that decoding into its own arena allocates nothing
// but the values that need it (the decimal text of a Debezium Decimal).
func TestRowImagesCarved(t *testing.T) {
	for _, tc := range benchCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dec := newDecoder(t, tc.o)
			var dst []Change
			allocs := testing.AllocsPerRun(100, func() {
				var err error
				if dst, _, err = dec.Decode(dst[:0], tc.rec); err != nil || len(dst) != 1 {
					t.Fatal(err)
				}
			})
			want := 0.0
			if tc.name == "debezium/schema" {
				want = 1 // the Decimal's text
			}
			if allocs > want {
				t.Errorf("%v allocations per Decode, want %v", allocs, want)
			}

			var arena []Column
			dec.CarveColumnsFrom(&arena)
			var changes []Change
			for range 3 {
				out, _, err := dec.Decode(nil, tc.rec)
				if err != nil {
					t.Fatal(err)
				}
				changes = append(changes, out...)
			}
			lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(arena))), uintptr(unsafe.Pointer(unsafe.SliceData(arena[len(arena):])))
			for _, c := range changes {
				for _, img := range [][]Column{c.Columns, c.Before} {
					if img == nil {
						continue
					}
					// An update's old image is carved too, between them.
					p := uintptr(unsafe.Pointer(unsafe.SliceData(img)))
					if cap(img) == 0 || p < lo || p+uintptr(cap(img))*unsafe.Sizeof(Column{}) > hi {
						t.Fatalf("an image of %d columns is not in the arena", len(img))
					}
				}
			}
		})
	}
}
