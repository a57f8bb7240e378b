package schema

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestParseUnscaledShort compares parseUnscaled's one-pass path with the
// general one on random decimal text, valid and not: where the short path
// takes a text it must read it as the general path does.
func TestParseUnscaledShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			if rng.IntN(4) == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		return b.String()
	}
	taken := 0
	for range 200000 {
		var s string
		if rng.IntN(3) == 0 {
			s = "-"
		}
		s += digits(rng.IntN(21))
		if rng.IntN(3) > 0 {
			s += "." + digits(rng.IntN(8))
		}
		if rng.IntN(40) == 0 {
			s = s[:rng.IntN(len(s)+1)] + string("x.-+e 0"[rng.IntN(7)]) + s[rng.IntN(len(s)+1):]
		}
		scale := rng.IntN(20)
		neg, lo, intDigits, ok := parseUnscaledShort(s, scale)
		if !ok {
			continue
		}
		taken++
		lneg, lhi, llo, lintDigits, lok := parseUnscaledLong(s, scale)
		if !lok || neg != lneg || lhi != 0 || lo != llo || intDigits != lintDigits {
			t.Fatalf("%q at scale %d: short path %v %d %d %v, general path %v %d %d %d %v", s, scale, neg, lo, intDigits, ok, lneg, lhi, llo, lintDigits, lok)
		}
	}
	if taken < 50000 {
		t.Errorf("the short path took %d texts", taken)
	}
}
