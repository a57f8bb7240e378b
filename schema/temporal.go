package schema

import (
	"errors"
	"strconv"
	"time"
)

const (
	microsPerSecond = 1_000_000
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	microsPerDay    = 24 * microsPerHour

	// MaxTimeMicros bounds MySQL's TIME range: ±838:59:59.000000.
	MaxTimeMicros = 838*microsPerHour + 59*microsPerMinute + 59*microsPerSecond

	// timeHourDigits is the fewest hour digits a TIME is written with:
	// MySQL writes 01:02:03 and 838:59:59.
	timeHourDigits = 2
)

// The range of dates Coerce accepts: 0001-01-01 … 9999-12-31 (MySQL's
// documented range starts at 1000-01-01, but it stores earlier dates).
var (
	minDays   = daysFromCivil(1, 1, 1)
	maxDays   = daysFromCivil(9999, 12, 31)
	minMicros = minDays * microsPerDay
	maxMicros = (maxDays+1)*microsPerDay - 1
)

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

// daysFromCivil returns the days since 1970-01-01 of the proleptic
// Gregorian date y-m-d (H. Hinnant's days_from_civil).
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

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// floorDivMod returns floor(a/b) and the non-negative remainder.
func floorDivMod(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func appendPadded(b []byte, n int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], n, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendDate appends days as YYYY-MM-DD.
func appendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = appendPadded(b, int64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, int64(m), 2)
	b = append(b, '-')
	return appendPadded(b, int64(d), 2)
}

// appendFraction appends micros (0…999999) as '.' and digits fractional
// digits; digits < 0 means six when micros is not zero, none when it is.
func appendFraction(b []byte, micros int64, digits int) []byte {
	if digits < 0 {
		if micros == 0 {
			return b
		}
		digits = 6
	}
	if digits == 0 {
		return b
	}
	var tmp [6]byte
	for i := 5; i >= 0; i-- {
		tmp[i] = byte('0' + micros%10)
		micros /= 10
	}
	b = append(b, '.')
	return append(b, tmp[:digits]...)
}

// appendDateTime appends microseconds since the epoch as
// YYYY-MM-DD HH:MM:SS[.ffffff] (see appendFraction for digits).
func appendDateTime(b []byte, us int64, digits int) []byte {
	days, rem := floorDivMod(us, microsPerDay)
	b = appendDate(b, days)
	b = append(b, ' ')
	b = appendPadded(b, rem/microsPerHour, 2)
	b = append(b, ':')
	b = appendPadded(b, rem/microsPerMinute%60, 2)
	b = append(b, ':')
	b = appendPadded(b, rem/microsPerSecond%60, 2)
	return appendFraction(b, rem%microsPerSecond, digits)
}

// appendTime appends a MySQL TIME as [-]HH:MM:SS[.ffffff], hours with at
// least two digits (see appendFraction for digits).
func appendTime(b []byte, us int64, digits int) []byte {
	u := uint64(us)
	if us < 0 {
		b = append(b, '-')
		u = -u
	}
	b = appendPadded(b, int64(u/microsPerHour), timeHourDigits)
	b = append(b, ':')
	b = appendPadded(b, int64(u/microsPerMinute%60), 2)
	b = append(b, ':')
	b = appendPadded(b, int64(u/microsPerSecond%60), 2)
	return appendFraction(b, int64(u%microsPerSecond), digits)
}

// timeDigits is the number of fractional digits a TIME of fsp scale is
// written with: scale, or six when us has digits below the scale (so no
// value is cut).
func timeDigits(us int64, scale int) int {
	if scale >= 6 || scale < 0 {
		return 6
	}
	if us%pow10[6-scale] != 0 {
		return 6
	}
	return scale
}

// civil is date and time text as parsed.
type civil struct {
	year, month, day  int
	hour, minute, sec int
	micro             int64
	hasTime           bool
	zoned             bool // an offset or Z followed the time
	offsetSec         int
}

var errSyntax = errors.New("syntax")

// notCalendar reports whether the date is zero, partly zero or past the
// end of its month: MySQL stores such dates, but they are no calendar date.
func (c *civil) notCalendar() bool {
	return c.year == 0 || c.month == 0 || c.day == 0 || c.day > daysIn(c.year, c.month)
}

// wallMicros is c's wall clock as microseconds since 1970-01-01 00:00:00.
func (c *civil) wallMicros() int64 {
	return daysFromCivil(c.year, c.month, c.day)*microsPerDay +
		int64(c.hour)*microsPerHour + int64(c.minute)*microsPerMinute + int64(c.sec)*microsPerSecond + c.micro
}

// instantMicros is the instant c denotes: with its own offset if it has
// one, else read as a wall clock in loc.
func (c *civil) instantMicros(loc *time.Location) int64 {
	if c.zoned {
		return c.wallMicros() - int64(c.offsetSec)*microsPerSecond
	}
	return wallToInstant(c.wallMicros(), loc)
}

// wallToInstant reads a wall clock (microseconds since 1970-01-01 00:00:00)
// in loc. In a DST gap or overlap the instant is the one time.Date picks.
func wallToInstant(wall int64, loc *time.Location) int64 {
	if loc == nil || loc == time.UTC {
		return wall
	}
	days, rem := floorDivMod(wall, microsPerDay)
	y, m, d := civilFromDays(days)
	secs := rem / microsPerSecond
	t := time.Date(y, time.Month(m), d, int(secs/3600), int(secs/60%60), int(secs%60), 0, loc)
	return t.Unix()*microsPerSecond + rem%microsPerSecond
}

// instantToWall returns the wall clock in loc of an instant.
func instantToWall(us int64, loc *time.Location) int64 {
	if loc == nil || loc == time.UTC {
		return us
	}
	secs, _ := floorDivMod(us, microsPerSecond)
	_, off := time.Unix(secs, 0).In(loc).Zone()
	return us + int64(off)*microsPerSecond
}

func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseFraction parses the 1–9 digits after a '.' into microseconds
// (digits past the sixth are dropped: MySQL has none, and producers that
// write nine pad with zeros) and returns how many bytes it read.
func parseFraction(s string) (micro int64, n int, ok bool) {
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		if n < 6 {
			micro = micro*10 + int64(s[n]-'0')
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

// parseCivil parses "YYYY-MM-DD", optionally followed by ' ' or 'T',
// "HH:MM[:SS[.fffffffff]]" and, with zone, "Z" or "±HH[[:]MM]". Months above
// 12, days above 31 or times past 23:59:59 are syntax errors; zero and
// invalid calendar dates are not (see notCalendar).
func parseCivil(s string, zone bool) (civil, error) {
	var c civil
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return c, errSyntax
	}
	var ok1, ok2, ok3 bool
	c.year, ok1 = digits(s[0:4])
	c.month, ok2 = digits(s[5:7])
	c.day, ok3 = digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || c.month > 12 || c.day > 31 {
		return c, errSyntax
	}
	rest := s[10:]
	if rest == "" {
		return c, nil
	}
	if (rest[0] != ' ' && rest[0] != 'T') || len(rest) < 6 || rest[3] != ':' {
		return c, errSyntax
	}
	c.hasTime = true
	c.hour, ok1 = digits(rest[1:3])
	c.minute, ok2 = digits(rest[4:6])
	if !ok1 || !ok2 || c.hour > 23 || c.minute > 59 {
		return c, errSyntax
	}
	rest = rest[6:]
	if rest != "" && rest[0] == ':' {
		if len(rest) < 3 {
			return c, errSyntax
		}
		if c.sec, ok1 = digits(rest[1:3]); !ok1 || c.sec > 59 {
			return c, errSyntax
		}
		rest = rest[3:]
		if rest != "" && rest[0] == '.' {
			micro, n, ok := parseFraction(rest[1:])
			if !ok {
				return c, errSyntax
			}
			c.micro = micro
			rest = rest[1+n:]
		}
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
		hh, ok1 = digits(rest)
		ok2 = true
	case len(rest) == 5 && rest[2] == ':':
		hh, ok1 = digits(rest[:2])
		mm, ok2 = digits(rest[3:])
	case len(rest) == 4:
		hh, ok1 = digits(rest[:2])
		mm, ok2 = digits(rest[2:])
	default:
		return c, errSyntax
	}
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return c, errSyntax
	}
	c.offsetSec = sign * (hh*3600 + mm*60)
	return c, nil
}

// ParseZoned parses date and time text that ends in "Z" or an offset
// ("2024-05-01T18:30:00+08:00", "2024-05-01 10:30:00Z") to its instant in
// microseconds since 1970-01-01 UTC. ok is false for other text, text
// without an offset, and dates that are no calendar date.
func ParseZoned(s string) (us int64, ok bool) {
	c, err := parseCivil(s, true)
	if err != nil || !c.zoned || c.notCalendar() {
		return 0, false
	}
	return c.instantMicros(nil), true
}

// parseTimeText parses a MySQL TIME, "[-]H…H:MM:SS[.fffffffff]" (one to
// three hour digits), to microseconds; the caller checks the range.
func parseTimeText(s string) (int64, bool) {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	i := 0
	for i < len(s) && i < 4 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 3 || len(s) < i+6 || s[i] != ':' || s[i+3] != ':' {
		return 0, false
	}
	hh, _ := digits(s[:i])
	mm, ok1 := digits(s[i+1 : i+3])
	ss, ok2 := digits(s[i+4 : i+6])
	if !ok1 || !ok2 || mm > 59 || ss > 59 {
		return 0, false
	}
	var micro int64
	if rest := s[i+6:]; rest != "" {
		var n int
		var ok bool
		if rest[0] != '.' {
			return 0, false
		}
		if micro, n, ok = parseFraction(rest[1:]); !ok || 1+n != len(rest) {
			return 0, false
		}
	}
	us := int64(hh)*microsPerHour + int64(mm)*microsPerMinute + int64(ss)*microsPerSecond + micro
	if neg {
		us = -us
	}
	return us, true
}
