package cdc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/binlake/binlake/schema"
)

// civil is a wall-clock date and time as MySQL writes it.
type civil struct {
	year, month, day    int
	hour, minute, sec   int
	micro               int // 0–999999; digits past the sixth are dropped
	zoned               bool
	offsetSec           int // with zoned: the UTC offset that followed the time
	hasTime, zeroInDate bool
}

var errSyntax = errors.New("syntax")

// parseCivil parses "YYYY-MM-DD", optionally followed by " HH:MM:SS" or
// "THH:MM:SS", an optional fraction of 1–9 digits and, if zone is set, an
// optional "Z" or "±HH[:MM]". A date with a zero year, month or day, or a
// day past the end of its month, sets zeroInDate: MySQL stores such dates
// (zero dates, partly zero dates, ALLOW_INVALID_DATES) but they are not
// calendar dates.
func parseCivil(s string, zone bool) (civil, error) {
	var c civil
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return c, errSyntax
	}
	var ok1, ok2, ok3 bool
	c.year, ok1 = digitsN(s[0:4])
	c.month, ok2 = digitsN(s[5:7])
	c.day, ok3 = digitsN(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return c, errSyntax
	}
	if c.month > 12 || c.day > 31 {
		return c, errSyntax
	}
	c.zeroInDate = c.year == 0 || c.month == 0 || c.day == 0 || c.day > daysIn(c.year, c.month)
	rest := s[10:]
	if rest == "" {
		return c, nil
	}
	if rest[0] != ' ' && rest[0] != 'T' || len(rest) < 9 || rest[3] != ':' || rest[6] != ':' {
		return c, errSyntax
	}
	c.hasTime = true
	c.hour, ok1 = digitsN(rest[1:3])
	c.minute, ok2 = digitsN(rest[4:6])
	c.sec, ok3 = digitsN(rest[7:9])
	if !ok1 || !ok2 || !ok3 || c.hour > 23 || c.minute > 59 || c.sec > 59 {
		return c, errSyntax
	}
	rest = rest[9:]
	if rest != "" && rest[0] == '.' {
		var n int
		var ok bool
		c.micro, n, ok = fraction(rest[1:])
		if !ok {
			return c, errSyntax
		}
		rest = rest[1+n:]
	}
	if rest == "" {
		return c, nil
	}
	if !zone {
		return c, errSyntax
	}
	c.zoned = true
	if rest == "Z" || rest == "z" {
		return c, nil
	}
	sign := 1
	switch rest[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return c, errSyntax
	}
	rest = rest[1:]
	var hh, mm int
	switch {
	case len(rest) == 2:
		hh, ok1 = digitsN(rest)
		ok2 = true
	case len(rest) == 5 && rest[2] == ':':
		hh, ok1 = digitsN(rest[:2])
		mm, ok2 = digitsN(rest[3:])
	case len(rest) == 4:
		hh, ok1 = digitsN(rest[:2])
		mm, ok2 = digitsN(rest[2:])
	default:
		return c, errSyntax
	}
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return c, errSyntax
	}
	c.offsetSec = sign * (hh*3600 + mm*60)
	return c, nil
}

// fraction parses 1–9 fraction digits into microseconds (dropping the
// digits past the sixth) and returns how many digits it read.
func fraction(s string) (micro, n int, ok bool) {
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		if n < 6 {
			micro = micro*10 + int(s[n]-'0')
		}
		n++
	}
	if n == 0 || n > 9 {
		return 0, 0, false
	}
	for i := n; i < 6; i++ {
		micro *= 10
	}
	return micro, n, true
}

// digitsN parses a string of ASCII digits.
func digitsN(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86400 * microsPerSecond
)

// wallMicros returns c's wall clock as microseconds since 1970-01-01
// 00:00:00, as if in UTC.
func (c civil) wallMicros() int64 {
	return daysFromCivil(c.year, c.month, c.day)*microsPerDay +
		int64(c.hour*3600+c.minute*60+c.sec)*microsPerSecond + int64(c.micro)
}

// instantMicros returns the instant c denotes: its own offset if it has
// one, else its wall clock read in loc. In a gap or overlap of loc (a DST
// change) the instant is the one time.Date picks.
func (c civil) instantMicros(loc *time.Location) int64 {
	if c.zoned {
		return c.wallMicros() - int64(c.offsetSec)*microsPerSecond
	}
	if loc == time.UTC {
		return c.wallMicros()
	}
	t := time.Date(c.year, time.Month(c.month), c.day, c.hour, c.minute, c.sec, 0, loc)
	return t.Unix()*microsPerSecond + int64(c.micro)
}

// temporal converts MySQL date and time text to a Value of kind k (DateV,
// DateTimeV or TimestampV, the last read in loc). Zero and partly zero
// dates give Null and zero=true. A time part on a date is accepted only if
// it is midnight.
func temporal(s string, k schema.ValueKind, loc *time.Location) (v schema.Value, zero bool, err error) {
	c, err := parseCivil(s, k == schema.TimestampV)
	if err != nil {
		return v, false, errSyntax
	}
	if c.zeroInDate {
		return schema.Value{}, true, nil
	}
	switch k {
	case schema.DateV:
		if c.hour != 0 || c.minute != 0 || c.sec != 0 || c.micro != 0 {
			return v, false, errSyntax
		}
		return schema.DateDays(daysFromCivil(c.year, c.month, c.day)), false, nil
	case schema.DateTimeV:
		return schema.DateTimeMicros(c.wallMicros()), false, nil
	}
	return schema.TimestampMicros(c.instantMicros(loc)), false, nil
}

// maxTimeMicros is MySQL's TIME range, ±838:59:59.000000.
const maxTimeMicros = (838*3600 + 59*60 + 59) * microsPerSecond

// parseTime parses a MySQL TIME, "[-]H…H:MM:SS[.ffffff]", to microseconds.
func parseTime(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	h, rest, ok := strings.Cut(s, ":")
	if !ok || len(h) == 0 || len(h) > 3 || len(rest) < 5 || rest[2] != ':' {
		return 0, false
	}
	hh, ok1 := digitsN(h)
	mm, ok2 := digitsN(rest[:2])
	ss, ok3 := digitsN(rest[3:5])
	if !ok1 || !ok2 || !ok3 || mm > 59 || ss > 59 {
		return 0, false
	}
	var micro int
	if rest = rest[5:]; rest != "" {
		var n int
		if rest[0] != '.' {
			return 0, false
		}
		if micro, n, ok = fraction(rest[1:]); !ok || 1+n != len(rest) {
			return 0, false
		}
	}
	us := int64(hh*3600+mm*60+ss)*microsPerSecond + int64(micro)
	if us > maxTimeMicros {
		return 0, false
	}
	if neg {
		us = -us
	}
	return us, true
}

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
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return schema.IntValue(n), true
	}
	if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return schema.UintValue(u), true
	}
	return schema.Value{}, false
}

// numberValue converts the text of a JSON number with no declared type:
// integers to IntV (UintV above MaxInt64), everything else — fractions,
// exponents, integers beyond the uint64 range — to an exact DecimalV.
func numberValue(s string) (schema.Value, bool) {
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
	n, err := strconv.ParseInt(s, 10, 64)
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
