package cdc

import (
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

func newDecoder(t testing.TB, o Options) Decoder {
	t.Helper()
	dec, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return dec
}

func record(value string) *Record {
	return &Record{Topic: "dbserver1.shop.orders", Offset: 7, Value: []byte(value), Timestamp: testTimestamp}
}

// decode decodes one message that must give changes.
func decode(t testing.TB, dec Decoder, rec *Record) []Change {
	t.Helper()
	changes, skip, err := dec.Decode(nil, rec)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if skip != NotSkipped {
		t.Fatalf("Decode skipped the record: %s", skip)
	}
	return changes
}

// decodeErr decodes one message that must fail with an error containing
// every one of wants, and checks that dst comes back unchanged.
func decodeErr(t testing.TB, dec Decoder, rec *Record, wants ...string) {
	t.Helper()
	_ = decodeError(t, dec, rec, wants...) // checked there
}

// decodeError is decodeErr returning the error, for tests that look
// further into it.
func decodeError(t testing.TB, dec Decoder, rec *Record, wants ...string) error {
	t.Helper()
	sentinel := Change{Op: DDL, SQL: "sentinel"}
	out, skip, err := dec.Decode([]Change{sentinel}, rec)
	if err == nil {
		t.Fatalf("Decode succeeded (skip %q): %v", skip, out)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if len(out) != 1 || out[0].SQL != "sentinel" {
		t.Errorf("on error Decode returned %d changes, want dst unchanged", len(out))
	}
	return err
}

// column returns the named column of cols.
func column(t testing.TB, cols []Column, name string) Column {
	t.Helper()
	for _, c := range cols {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no column %q in %v", name, cols)
	return Column{}
}

func wantValue(t testing.TB, c Column, want schema.Value) {
	t.Helper()
	if !c.Value.Equal(want) || c.Value.Kind != want.Kind || (want.Kind == schema.DecimalV && c.Value.S != want.S) {
		t.Errorf("column %s = %s %s, want %s %s", c.Name, c.Value.Kind, c.Value, want.Kind, want)
	}
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
