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

// TestIsCanonicalDecimal compares isCanonicalDecimal with its definition
// written plainly (canonicalDecimalRef) on random decimal text, canonical
// and not, at random precisions and scales.
func TestIsCanonicalDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			if rng.IntN(3) == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		return b.String()
	}
	canonical := 0
	for range 300000 {
		var s string
		if rng.IntN(3) == 0 {
			s = "-"
		}
		s += digits(rng.IntN(8))
		if rng.IntN(4) > 0 {
			s += "." + digits(rng.IntN(6))
		}
		if rng.IntN(30) == 0 {
			s = s[:rng.IntN(len(s)+1)] + string("x.-+e 0/:"[rng.IntN(9)]) + s[rng.IntN(len(s)+1):]
		}
		p, scale := rng.IntN(12), rng.IntN(6)
		got, want := isCanonicalDecimal(s, p, scale), canonicalDecimalRef(s, p, scale)
		if got != want {
			t.Fatalf("isCanonicalDecimal(%q, %d, %d) = %v, want %v", s, p, scale, got, want)
		}
		if got {
			canonical++
		}
	}
	if canonical < 10000 {
		t.Errorf("%d canonical texts met", canonical)
	}
}

// canonicalDecimalRef is isCanonicalDecimal's definition, digit by digit.
func canonicalDecimalRef(s string, p, scale int) bool {
	i := 0
	if s != "" && s[0] == '-' {
		i = 1
	}
	start := i
	nonzero := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		nonzero = nonzero || s[i] != '0'
		i++
	}
	intLen := i - start
	if intLen == 0 || (intLen > 1 && s[start] == '0') {
		return false
	}
	if !nonzero {
		intLen = 0
	}
	if intLen > p-scale {
		return false
	}
	if scale > 0 {
		if i >= len(s) || s[i] != '.' || len(s)-i-1 != scale {
			return false
		}
		for i++; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
			nonzero = nonzero || s[i] != '0'
		}
	}
	return i == len(s) && (start == 0 || nonzero)
}
