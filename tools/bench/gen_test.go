package main

import (
	"slices"
	"testing"
	"time"
)

// Event times rise through the span for any number of messages: span·i
// must not overflow.
func TestEventOffsetsRiseThroughTheSpan(t *testing.T) {
	for _, n := range []int{2000, 1_000_000, 20_000_000} {
		g := newGenerator(n, 2, narrowColumns, time.Now())
		var last time.Duration
		is := []int{0, 1, n / 3, n / 2, 853_899, 853_900, 853_901, n - 1}
		slices.Sort(is)
		for _, i := range is {
			if i >= n {
				continue
			}
			off := g.eventOffset(i)
			if off < last || off >= g.span {
				t.Fatalf("n=%d: message %d at %v into the %v span, after %v", n, i, off, g.span, last)
			}
			last = off
		}
		for _, i := range is {
			want := time.Duration(float64(g.span) * float64(i) / float64(n))
			if got := g.eventOffset(i); got < want-time.Microsecond || got > want+time.Microsecond {
				t.Errorf("n=%d: message %d at %v, want %v", n, i, got, want)
			}
		}
	}
}
