package duckdbtest

import (
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// FormatDouble returns the canonical form of a DOUBLE value: the shortest
// decimal that round-trips, laid out like JavaScript's Number#toString
// (0.1, 100, 123.456, 1e+21, 1.5e-7), and -0, NaN, Infinity, -Infinity.
func FormatDouble(x float64) string { return formatJS(x, 64) }

// FormatFloat returns the canonical form of a FLOAT value: the shortest
// decimal that round-trips to the same float32, laid out as FormatDouble.
func FormatFloat(x float32) string { return formatJS(float64(x), 32) }

func formatJS(x float64, bits int) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	case x == 0:
		if math.Signbit(x) {
			return "-0"
		}
		return "0"
	}
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	// e.g. "1.2345e+02": digits 12345, value = 0.12345 × 10^n with n = 3.
	e := strconv.FormatFloat(x, 'e', -1, bits)
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	k, n := len(digits), exp+1
	// ECMAScript Number::toString, steps for k digits and exponent n.
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + expSign + strconv.Itoa(abs(n-1))
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// FormatDecimal returns the canonical form of a DECIMAL(p,scale) value whose
// unscaled integer is unscaled: exactly scale fractional digits.
func FormatDecimal(unscaled *big.Int, scale int) string {
	neg := unscaled.Sign() < 0
	digits := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// FormatDate returns the canonical form of a DATE: t's own calendar date
// (no time zone conversion), YYYY-MM-DD.
func FormatDate(t time.Time) string { return t.Format("2006-01-02") }

// FormatTimestamp returns the canonical form of a TIMESTAMP (not adjusted to
// UTC): t's own wall clock, without conversion, truncated to microseconds:
// YYYY-MM-DDTHH:MM:SS.ffffff.
func FormatTimestamp(t time.Time) string {
	return t.Truncate(0).Add(-time.Duration(t.Nanosecond() % 1000)).Format("2006-01-02T15:04:05.000000")
}

// FormatTimestampTZ returns the canonical form of a TIMESTAMP WITH TIME ZONE:
// the instant in UTC, truncated to microseconds: YYYY-MM-DDTHH:MM:SS.ffffff+00:00.
func FormatTimestampTZ(t time.Time) string {
	return FormatTimestamp(t.UTC()) + "+00:00"
}

// FormatBlob returns the canonical form of a BLOB: lowercase hex.
func FormatBlob(b []byte) string { return hex.EncodeToString(b) }
