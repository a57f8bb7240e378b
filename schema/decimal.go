package schema

import (
	"errors"
	"math/bits"
	"strconv"
	"strings"
)

// pow10[i] is 10^i.
var pow10 = [...]int64{
	1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
	1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000,
	10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
	10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
}

// maxDecDigits bounds the significant digits of decimal text Coerce
// accepts; MySQL's decimals have at most 65, a double at most 17.
const maxDecDigits = 96

var (
	errNotDecimal   = errors.New("not a decimal number")
	errManyDigits   = errors.New("too many digits")
	errHugeExponent = errors.New("exponent out of range")
)

// decNum is a decimal number: ±0.d[0]d[1]…d[n-1] × 10^point, with no
// leading or trailing zero digits (zero is n = 0, never negative).
type decNum struct {
	neg   bool
	n     int
	point int
	d     [maxDecDigits]byte // ASCII digits
}

// parse reads [+-]digits[.digits][(e|E)[+-]digits] (at least one digit in
// the mantissa).
func (x *decNum) parse(s string) error {
	*x = decNum{}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		x.neg = s[i] == '-'
		i++
	}
	seen := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		seen = true
		if x.n == 0 && s[i] == '0' {
			continue
		}
		if x.n == maxDecDigits {
			return errManyDigits
		}
		x.d[x.n] = s[i]
		x.n++
		x.point++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			seen = true
			if x.n == 0 && s[i] == '0' {
				x.point--
				continue
			}
			if x.n == maxDecDigits {
				return errManyDigits
			}
			x.d[x.n] = s[i]
			x.n++
		}
	}
	if !seen {
		return errNotDecimal
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return errNotDecimal
		}
		if e > 1000 || e < -1000 {
			return errHugeExponent
		}
		x.point += e
		i = len(s)
	}
	if i != len(s) {
		return errNotDecimal
	}
	x.trim()
	return nil
}

// trim drops trailing zero digits and normalises zero.
func (x *decNum) trim() {
	for x.n > 0 && x.d[x.n-1] == '0' {
		x.n--
	}
	if x.n == 0 {
		x.neg, x.point = false, 0
	}
}

// setUint sets x to ±u.
func (x *decNum) setUint(neg bool, u uint64) {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], u, 10)
	*x = decNum{neg: neg, n: len(s), point: len(s)}
	copy(x.d[:], s)
	x.trim()
}

// intDigits is the number of digits before the decimal point.
func (x *decNum) intDigits() int { return max(x.point, 0) }

// isInteger reports whether x has no fractional part.
func (x *decNum) isInteger() bool { return x.n <= x.point }

// round rounds x to scale fractional digits, half away from zero, and
// reports whether digits were dropped.
func (x *decNum) round(scale int) bool {
	k := x.point + scale // digits kept
	if k >= x.n {
		return false
	}
	if k < 0 {
		*x = decNum{}
		return true
	}
	up := x.d[k] >= '5'
	x.n = k
	if up {
		i := k - 1
		for i >= 0 && x.d[i] == '9' {
			x.d[i] = '0'
			i--
		}
		if i < 0 {
			x.d[0] = '1'
			x.n = 1
			x.point++
		} else {
			x.d[i]++
		}
	}
	x.trim()
	return true
}

// uint64 returns the magnitude of an integer x.
func (x *decNum) uint64() (uint64, bool) {
	if !x.isInteger() || x.point > 20 {
		return 0, false
	}
	var u uint64
	for i := 0; i < x.point; i++ {
		c := uint64('0')
		if i < x.n {
			c = uint64(x.d[i])
		}
		hi, lo := bits.Mul64(u, 10)
		lo, carry := bits.Add64(lo, c-'0', 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
		u = lo
	}
	return u, true
}

func (x *decNum) equal(y *decNum) bool {
	return x.neg == y.neg && x.n == y.n && x.point == y.point && string(x.d[:x.n]) == string(y.d[:y.n])
}

// appendText appends x in plain notation with exactly scale fractional
// digits (x must not have more).
func (x *decNum) appendText(b []byte, scale int) []byte {
	if x.neg {
		b = append(b, '-')
	}
	if x.point <= 0 {
		b = append(b, '0')
	}
	for i := 0; i < x.point; i++ {
		if i < x.n {
			b = append(b, x.d[i])
		} else {
			b = append(b, '0')
		}
	}
	if scale > 0 {
		b = append(b, '.')
		for j := 0; j < scale; j++ {
			switch pos := x.point + j; {
			case pos >= 0 && pos < x.n:
				b = append(b, x.d[pos])
			default:
				b = append(b, '0')
			}
		}
	}
	return b
}

// fracDigits is the number of fractional digits x needs.
func (x *decNum) fracDigits() int { return max(x.n-x.point, 0) }

// CanonicalDecimal sets *dst to the DecimalV of s and reports true if s
// is the text Coerce gives a value of decimal type t (see
// isCanonicalDecimal), so that Typed takes it as it is; it leaves *dst
// alone otherwise. Where the unscaled value fits 18 digits, the value
// carries it (in I, with the scale plus one in U) for Typed's range check
// and the Parquet encoding, which then do not read the text again; the
// value equals DecimalValue(s) all the same.
func CanonicalDecimal(dst *Value, s string, t *Type) bool {
	if t.Kind != Decimal {
		return false
	}
	u, digits, ok := canonicalDecimal(s, t.Precision, t.Scale)
	if !ok {
		return false
	}
	*dst = Value{Kind: DecimalV, S: s}
	if digits <= 18 {
		dst.I, dst.U = int64(u), uint64(t.Scale)+1
		if s[0] == '-' {
			dst.I = -dst.I
		}
	}
	return true
}

// unscaledAt returns the unscaled value a DecimalV carries (CanonicalDecimal)
// if it carries one at scale.
func (v *Value) unscaledAt(scale int) (int64, bool) {
	return v.I, v.U == uint64(scale)+1
}

// isCanonicalDecimal reports whether s is the form Coerce gives a value of
// decimal(p, scale): optional '-', integer digits without leading zeros
// ("0" when there are none), and '.' with exactly scale digits when scale
// > 0; no negative zero; at most p-scale integer digits.
func isCanonicalDecimal(s string, p, scale int) bool {
	_, _, ok := canonicalDecimal(s, p, scale)
	return ok
}

// canonicalDecimal is isCanonicalDecimal that also returns the number of
// digits of s and, if there are at most 19, its unscaled magnitude.
func canonicalDecimal(s string, p, scale int) (u uint64, digits int, ok bool) {
	i := 0
	if s != "" && s[0] == '-' {
		i = 1
	}
	start := i
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		u = u*10 + uint64(s[i]-'0')
	}
	// Without leading zeros, the integer part is zero only as "0", which
	// counts as no integer digits.
	intLen := i - start
	if intLen == 0 || intLen > 1 && s[start] == '0' {
		return 0, 0, false
	}
	digits = intLen + scale
	zeroInt := s[start] == '0'
	if zeroInt {
		intLen = 0
	}
	if intLen > p-scale {
		return 0, 0, false
	}
	if scale == 0 {
		return u, digits, i == len(s) && (start == 0 || !zeroInt)
	}
	if len(s)-i-1 != scale || s[i] != '.' {
		return 0, 0, false
	}
	frac := i + 1
	for i = frac; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, 0, false
		}
		u = u*10 + uint64(d)
	}
	// No negative zero.
	return u, digits, start == 0 || !zeroInt || strings.Trim(s[frac:], "0") != ""
}

// u128 arithmetic for decimals up to 38 digits, stored big-endian in two's
// complement, without math/big.

// parseUnscaled reads decimal text with at most scale fractional digits
// (more are allowed only if they are zeros) as its unscaled magnitude at
// that scale, and returns the number of integer digits. It refuses values
// of more than 38 digits.
func parseUnscaled(s string, scale int) (neg bool, hi, lo uint64, intDigits int, ok bool) {
	if neg, lo, intDigits, ok = parseUnscaledShort(s, scale); ok {
		return neg, 0, lo, intDigits, true
	}
	return parseUnscaledLong(s, scale)
}

// parseUnscaledShort is parseUnscaled in one pass for the usual text:
// plain digits with at most scale fractional ones, whose integer digits
// and scale come to at most 18, so that the unscaled value fits in lo.
// It reports false for any other text, valid or not.
func parseUnscaledShort(s string, scale int) (neg bool, lo uint64, intDigits int, ok bool) {
	i := 0
	if s != "" && s[0] == '-' {
		neg = true
		i = 1
	}
	start := i
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		lo = lo*10 + uint64(s[i]-'0')
	}
	intLen, fracLen := i-start, 0
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			lo = lo*10 + uint64(s[i]-'0')
		}
		fracLen = i - fs
	}
	if i != len(s) || intLen+fracLen == 0 || fracLen > scale || intLen+scale > 18 {
		return false, 0, 0, false
	}
	lo *= uint64(pow10[scale-fracLen])
	intDigits = intLen
	for j := start; j < start+intLen && s[j] == '0'; j++ {
		intDigits--
	}
	return neg && lo != 0, lo, intDigits, true
}

// parseUnscaledLong is parseUnscaled for any text.
func parseUnscaledLong(s string, scale int) (neg bool, hi, lo uint64, intDigits int, ok bool) {
	i := 0
	if s != "" && s[0] == '-' {
		neg = true
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart, frac := s[start:i], ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
	}
	if i != len(s) || (intPart == "" && frac == "") {
		return false, 0, 0, 0, false
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if len(frac) > scale {
		for j := scale; j < len(frac); j++ {
			if frac[j] != '0' {
				return false, 0, 0, 0, false
			}
		}
		frac = frac[:scale]
	}
	if len(intPart)+scale > 38 {
		return false, 0, 0, 0, false
	}
	hi, lo = accumDigits(0, 0, intPart)
	hi, lo = accumDigits(hi, lo, frac)
	for z := scale - len(frac); z > 0; z -= 19 {
		hi, lo = mulAdd128(hi, lo, uint64(pow10[min(z, 18)]), 0)
		if z > 18 {
			hi, lo = mulAdd128(hi, lo, 10, 0)
		}
	}
	if hi == 0 && lo == 0 {
		neg = false
	}
	return neg, hi, lo, len(intPart), true
}

// accumDigits returns (hi,lo)×10^len(digits) + digits, taking up to 18
// digits at a time (the caller keeps the result within 128 bits).
func accumDigits(hi, lo uint64, digits string) (uint64, uint64) {
	for len(digits) > 0 {
		k := min(len(digits), 18)
		var c uint64
		for j := 0; j < k; j++ {
			c = c*10 + uint64(digits[j]-'0')
		}
		if hi == 0 && lo == 0 {
			lo = c
		} else {
			hi, lo = mulAdd128(hi, lo, uint64(pow10[k]), c)
		}
		digits = digits[k:]
	}
	return hi, lo
}

// mulAdd128 returns (hi,lo)×m + c in 128 bits.
func mulAdd128(hi, lo, m, c uint64) (uint64, uint64) {
	h, l := bits.Mul64(lo, m)
	l, carry := bits.Add64(l, c, 0)
	return hi*m + h + carry, l
}

// putTwos writes ±(hi,lo) into b (at most 16 bytes) as a big-endian two's
// complement integer.
func putTwos(b []byte, neg bool, hi, lo uint64) {
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(lo)
		lo = lo>>8 | hi<<56
		hi >>= 8
	}
}

// getTwos reads a big-endian two's complement integer of at most 16 bytes
// as sign and magnitude.
func getTwos(b []byte) (neg bool, hi, lo uint64) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		neg = true
		hi, lo = ^uint64(0), ^uint64(0)
	}
	for _, c := range b {
		hi = hi<<8 | lo>>56
		lo = lo<<8 | uint64(c)
	}
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return neg, hi, lo
}

// appendUnscaled appends ±(hi,lo) × 10^-scale in canonical decimal text.
func appendUnscaled(b []byte, neg bool, hi, lo uint64, scale int) []byte {
	var buf [48]byte
	i := len(buf)
	const chunk = 10_000_000_000_000_000_000 // 10^19
	for hi != 0 {
		var r uint64
		qhi := hi / chunk
		lo, r = bits.Div64(hi%chunk, lo, chunk)
		hi = qhi
		for j := 0; j < 19; j++ {
			i--
			buf[i] = byte('0' + r%10)
			r /= 10
		}
	}
	for lo != 0 {
		i--
		buf[i] = byte('0' + lo%10)
		lo /= 10
	}
	digits := buf[i:]
	if len(digits) == 0 {
		neg = false
	}
	if neg {
		b = append(b, '-')
	}
	if len(digits) <= scale {
		b = append(b, '0')
		if scale > 0 {
			b = append(b, '.')
			for j := len(digits); j < scale; j++ {
				b = append(b, '0')
			}
			b = append(b, digits...)
		}
		return b
	}
	b = append(b, digits[:len(digits)-scale]...)
	if scale > 0 {
		b = append(b, '.')
		b = append(b, digits[len(digits)-scale:]...)
	}
	return b
}

// decimalBytes is the fewest bytes that hold every decimal(p, ·) unscaled
// value, ±(10^p - 1), in two's complement; index p, for p up to 38.
var decimalBytes = func() [39]int {
	var n [39]int
	for p := 1; p <= 38; p++ {
		// 10^p - 1 < 2^(8k-1)  ⇔  p·log2(10) < 8k-1, checked exactly with
		// 128-bit arithmetic.
		hi, lo := uint64(0), uint64(1)
		for i := 0; i < p; i++ {
			h, l := bits.Mul64(lo, 10)
			hi, lo = hi*10+h, l
		}
		// max = 10^p - 1
		if lo == 0 {
			hi--
		}
		lo--
		for k := 1; k <= 16; k++ {
			bitsAvail := 8*k - 1 // value bits of a k-byte signed integer
			if fitsBits(hi, lo, bitsAvail) {
				n[p] = k
				break
			}
		}
	}
	return n
}()

// fitsBits reports whether (hi,lo) < 2^nbits.
func fitsBits(hi, lo uint64, nbits int) bool {
	if nbits >= 128 {
		return true
	}
	if nbits >= 64 {
		return hi>>(nbits-64) == 0
	}
	return hi == 0 && lo>>nbits == 0
}
