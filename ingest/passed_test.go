package ingest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/binlake/binlake/ingest"
	"github.com/binlake/binlake/storage/mem"
)

// A file is finished as soon as its partition's stream passes the end of
// its hour by the grace period, not at the end of the run: a row of the
// hour that comes later goes to a file of its own, which stays open for
// the hour's later rows. Before the grace period has passed, a row of the
// hour still goes to its first file.
func TestFilesOfPassedHoursFinishEarly(t *testing.T) {
	ctx := context.Background()
	kc := startKafka(t, 1)
	h := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC) // hour 01, passed at 02:15
	var recs []*kgo.Record
	add := func(min, n int) {
		recs = append(recs, inserts(h.Add(time.Duration(min)*time.Minute), len(recs), n)...)
	}
	add(10, 5000) // 0-4999: hour 01, a file with an encoder of its own
	add(65, 50)   // 5000-5049: hour 02, within the grace period of 01
	add(40, 1)    // 5050: hour 01 still goes to its first file
	add(80, 100)  // 5051-5150: hour 02, past 02:15: 01's file is finished
	add(50, 1)    // 5151: a late row of 01, in a file of its own
	add(90, 100)  // 5152-5251
	add(55, 1)    // 5252: the same late file
	produce(t, kc, recs...)
	st := mem.New()
	if _, err := ingest.Run(ctx, options(t, kc, st, h.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range committedFiles(t, st) {
		var offs []int64
		for _, r := range readMeta(t, st, f.Key) {
			offs = append(offs, r.Offset)
		}
		got = append(got, fmt.Sprintf("%s %s", f.Hour, ranges(offs)))
	}
	slices.Sort(got)
	want := []string{
		"dt=2024-03-01/hr=01 0-4999,5050",
		"dt=2024-03-01/hr=01 5151,5252",
		"dt=2024-03-01/hr=02 5000-5049,5051-5150,5152-5251",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files (hour, offsets of their rows):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ranges writes offsets in order as runs: 0-4,7.
func ranges(offs []int64) string {
	var parts []string
	for i := 0; i < len(offs); {
		j := i
		for j+1 < len(offs) && offs[j+1] == offs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", offs[i], offs[j]))
		} else {
			parts = append(parts, fmt.Sprint(offs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
