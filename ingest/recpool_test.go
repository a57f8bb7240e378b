package ingest

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordPoolReusesClearedSlices(t *testing.T) {
	var p recordPool
	s := p.GetRecords(100)
	if cap(s) < 100 {
		t.Fatalf("GetRecords(100) has capacity %d", cap(s))
	}
	s = s[:100]
	s[99] = kgo.Record{Value: []byte("kept by a record that was never recycled")}
	p.PutRecords(s)
	got := p.GetRecords(50)
	if cap(got) != cap(s) || &got[:1][0] != &s[0] {
		t.Fatal("GetRecords(50) did not reuse the free slice of capacity 100")
	}
	if got[:100][99].Value != nil {
		t.Error("a free slice still refers to a record's value")
	}
	if big := p.GetRecords(200); cap(big) < 200 {
		t.Fatalf("GetRecords(200) has capacity %d", cap(big))
	}
	for range maxFreeRecordSlices + 5 {
		p.PutRecords(make([]kgo.Record, 1))
	}
	if len(p.free) != maxFreeRecordSlices {
		t.Errorf("the pool keeps %d free slices, want at most %d", len(p.free), maxFreeRecordSlices)
	}
}
