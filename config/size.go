package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Byte size units accepted by ParseSize.
const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
	tib = 1 << 40
)

var sizeUnits = []struct {
	name string
	n    int64
}{
	{"KiB", kib}, {"MiB", mib}, {"GiB", gib}, {"TiB", tib},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize parses a byte size: a whole number of bytes ("1048576"), or a
// whole number followed by one of the units B, KiB, MiB, GiB, TiB (powers of
// 1024) or KB, MB, GB, TB (powers of 1000), with an optional space
// ("512MiB", "1 GiB"). Units are case-insensitive. Negative sizes, fractions
// and sizes that do not fit in an int64 are errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '-' || t[i] == '+' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("invalid size %q: expected a number of bytes, or a number with a unit such as 512MiB", s)
	}
	mult := int64(1)
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.n
				break
			}
		}
		if mult == 0 {
			return 0, fmt.Errorf("invalid size %q: unknown unit %q (use KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, unit)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		if _, ferr := strconv.ParseFloat(num, 64); ferr == nil {
			return 0, fmt.Errorf("invalid size %q: use a whole number (for example 1536MiB rather than 1.5GiB)", s)
		}
		return 0, fmt.Errorf("invalid size %q: expected a number of bytes, or a number with a unit such as 512MiB", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("invalid size %q: must not be negative", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n * mult, nil
}

// formatSize writes n in the largest unit that divides it exactly (binary
// units win a tie), so that ParseSize(formatSize(n)) == n: 512MiB, 64MB,
// 1000 (bytes).
func formatSize(n int64) string {
	if n == 0 {
		return "0"
	}
	best := int64(1)
	name := ""
	for _, u := range sizeUnits {
		if u.n > best && n%u.n == 0 {
			best, name = u.n, u.name
		}
	}
	return strconv.FormatInt(n/best, 10) + name
}

// formatDuration writes d like time.Duration.String without the zero
// trailing units: 15m rather than 15m0s, 1h rather than 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
