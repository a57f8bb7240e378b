package cdc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/binlake/binlake/schema"
)

// plainDecimal checks that s is a decimal number and returns it in plain
// notation, exactly: "1.5E-3" → "0.0015", "+12.30" → "12.30". Exponents
// beyond ±400 are refused rather than written out.
func plainDecimal(s string) (string, bool) {
	if isPlainDecimal(s) {
		return s, true
	}
	t, neg := s, false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		t, neg = t[1:], t[0] == '-'
	}
	mant, exp, hasExp := t, "", false
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant, exp, hasExp = t[:i], t[i+1:], true
	}
	intPart, frac, hasPoint := strings.Cut(mant, ".")
	if !allDigits(intPart) || !allDigits(frac) || intPart == "" && frac == "" {
		return "", false
	}
	if !hasExp {
		if s[0] != '+' && intPart != "" && (!hasPoint || frac != "") {
			return s, true
		}
		// Normalise "+1", ".5" and "1." to "1", "0.5" and "1".
		return signed(neg, intPart, frac), true
	}
	e, err := strconv.Atoi(exp)
	if err != nil || e > 400 || e < -400 {
		return "", false
	}
	digits := intPart + frac
	point := len(intPart) + e // the decimal point sits after this many digits
	switch {
	case point <= 0:
		return signed(neg, "0", strings.Repeat("0", -point)+digits), true
	case point >= len(digits):
		return signed(neg, digits+strings.Repeat("0", point-len(digits)), ""), true
	}
	return signed(neg, digits[:point], digits[point:]), true
}

// isPlainDecimal reports whether s is already in plain notation: an
// optional "-", digits, and optionally "." and more digits. It is how
// MySQL writes decimals, so plainDecimal checks it first.
func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > start && i == len(s)
}

func signed(neg bool, intPart, frac string) string {
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	s := intPart
	if frac != "" {
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// intValue parses decimal integer text to IntV, or UintV above MaxInt64.
func intValue(s string) (schema.Value, bool) {
	if n, ok := shortInt(s); ok {
		return schema.IntValue(n), true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return schema.IntValue(n), true
	}
	if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return schema.UintValue(u), true
	}
	return schema.Value{}, false
}

// shortInt parses the commonest integer text, an optional "-" and one to
// eighteen digits (which cannot overflow), faster than strconv; ok is
// false for anything else, which strconv then decides.
func shortInt(s string) (n int64, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		c := d[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseInt64 is strconv.ParseInt(s, 10, 64), faster on short digit
// strings.
func parseInt64(s string) (int64, error) {
	if n, ok := shortInt(s); ok {
		return n, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// numberValue converts the text of a JSON number with no declared type:
// integers to IntV (UintV above MaxInt64), everything else — fractions,
// exponents, integers beyond the uint64 range — to an exact DecimalV.
func numberValue(s string) (schema.Value, bool) {
	if n, ok := shortInt(s); ok {
		return schema.IntValue(n), true
	}
	if !strings.ContainsAny(s, ".eE") {
		if v, ok := intValue(s); ok {
			return v, true
		}
	}
	d, ok := plainDecimal(s)
	if !ok {
		return schema.Value{}, false
	}
	return schema.DecimalValue(d), true
}

// latin1 turns text that a producer decoded as ISO-8859-1 back into its
// bytes: each rune is one byte. It fails on a rune above U+00FF.
func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFF {
			return nil, false
		}
		b = append(b, byte(r))
		i += size
	}
	return b, true
}

// epochAuto reads an epoch number as milliseconds when its magnitude is at
// least 1e11 (1973-03-03 in ms, year 5138 in seconds), else as seconds.
func epochAuto(s string) (time.Time, bool) {
	n, err := parseInt64(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
			return time.Time{}, false
		}
		if math.Abs(f) >= 1e11 {
			return time.UnixMicro(int64(f * 1e3)).UTC(), true
		}
		return time.UnixMicro(int64(f * 1e6)).UTC(), true
	}
	if n >= 1e11 || n <= -1e11 {
		return time.UnixMilli(n).UTC(), true
	}
	return time.Unix(n, 0).UTC(), true
}

// untypedValue converts a JSON value that comes with no declared type:
// numbers by numberValue, strings as text, booleans as BoolV, objects and
// arrays as their compact JSON text. With sets, an array of strings none
// of which holds a comma is a SET (Maxwell writes SETs as arrays) and
// becomes its members joined by ",".
func untypedValue(d *jdoc, m int32, sets bool) (schema.Value, error) {
	n := &d.nodes[m]
	switch n.kind {
	case jNull:
		return schema.Value{}, nil
	case jTrue:
		return schema.BoolValue(true), nil
	case jFalse:
		return schema.BoolValue(false), nil
	case jNumber:
		v, ok := numberValue(d.text(m))
		if !ok {
			return v, fmt.Errorf("number %s out of range", quoteValue(d.text(m)))
		}
		return v, nil
	case jString:
		return schema.StringValue(d.str(m)), nil
	case jArray:
		if sets {
			if s, ok := setArray(d, m); ok {
				return schema.StringValue(s), nil
			}
		}
	}
	return schema.StringValue(d.compact(m)), nil
}

// setArray joins an array of comma-free strings with ",".
func setArray(d *jdoc, m int32) (string, bool) {
	var b strings.Builder
	for c := d.nodes[m].first; c >= 0; c = d.nodes[c].next {
		if d.nodes[c].kind != jString {
			return "", false
		}
		s := d.str(c)
		if strings.IndexByte(s, ',') >= 0 {
			return "", false
		}
		if c != d.nodes[m].first {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	return b.String(), true
}
