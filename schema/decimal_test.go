package schema

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestParseUnscaledShort compares parseUnscaled's one-pass path with the
// general one on random decimal text, valid and not: where the short path
// takes a text it must read it as the general path does.
func TestParseUnscaledShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	taken := 0
	for range 200000 {
		s := randomDecimal(rng, 20, 7)
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
	canonical := 0
	for range 300000 {
		s := randomDecimal(rng, 7, 5)
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

// TestCanonicalDecimalCarry checks decimals that carry their unscaled
// value (CanonicalDecimal) against the same text without it, on random
// text and types: CanonicalDecimal takes what isCanonicalDecimal takes,
// and Typed and the Parquet encoding give equal values, the same bytes
// and the same errors either way, also at other precisions and scales
// than the one the value was made for.
func TestCanonicalDecimalCarry(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	carried := 0
	digits := func(n int) string { return randomDigits(rng, n) }
	for range 200000 {
		from := Type{Kind: Decimal, Precision: 1 + rng.IntN(40)}
		from.Scale = rng.IntN(min(from.Precision, 10) + 1)
		var s string
		if rng.IntN(3) == 0 {
			s = "-"
		}
		if n := rng.IntN(from.Precision - from.Scale + 2); n == 0 || rng.IntN(4) == 0 {
			s += "0"
		} else {
			s += strconv.Itoa(1+rng.IntN(9)) + digits(n-1)
		}
		switch frac := from.Scale; {
		case rng.IntN(8) == 0:
			s += "." + digits(rng.IntN(12))
		case frac > 0:
			s += "." + digits(frac)
		}
		var v Value
		ok := CanonicalDecimal(&v, s, &from)
		if ok != isCanonicalDecimal(s, from.Precision, from.Scale) || ok && !v.Equal(DecimalValue(s)) || ok && v.S != s {
			t.Fatalf("CanonicalDecimal(%q, %s) = %v, %v", s, from, v, ok)
		}
		if !ok {
			continue
		}
		if v.U != 0 {
			carried++
		}
		to := from
		if rng.IntN(2) == 0 {
			to.Precision = 1 + rng.IntN(40)
			to.Scale = rng.IntN(min(to.Precision, 10) + 1)
		}
		plain := DecimalValue(s)
		var a, b Value
		aok, bok := Typed(&a, &v, &to), Typed(&b, &plain, &to)
		if aok != bok || aok && (!a.Equal(b) || a.S != b.S) {
			t.Fatalf("Typed(%q from %s, %s): carried %v %v, text %v %v", s, from, to, a, aok, b, bok)
		}
		pa, _, aerr := AppendParquetValueOf(nil, &v, &to, 0)
		pb, _, berr := AppendParquetValueOf(nil, &plain, &to, 0)
		if (aerr == nil) != (berr == nil) || !bytes.Equal(pa.ByteArray(), pb.ByteArray()) || pa.Kind() != pb.Kind() {
			t.Fatalf("ParquetValue(%q from %s, %s): carried %v %v, text %v %v", s, from, to, pa, aerr, pb, berr)
		}
	}
	if carried < 30000 {
		t.Errorf("%d values carried their unscaled value", carried)
	}
}

// randomDecimal returns decimal text for the randomized tests: an
// optional "-", up to maxInt digits, often "." and up to maxFrac digits,
// and now and then a stray byte.
func randomDecimal(rng *rand.Rand, maxInt, maxFrac int) string {
	var s string
	if rng.IntN(3) == 0 {
		s = "-"
	}
	s += randomDigits(rng, rng.IntN(maxInt+1))
	if rng.IntN(3) > 0 {
		s += "." + randomDigits(rng, rng.IntN(maxFrac+1))
	}
	if rng.IntN(40) == 0 {
		s = s[:rng.IntN(len(s)+1)] + string("x.-+e 0/:"[rng.IntN(9)]) + s[rng.IntN(len(s)+1):]
	}
	return s
}

// randomDigits returns n random digits, a quarter of them zeros besides.
func randomDigits(rng *rand.Rand, n int) string {
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
