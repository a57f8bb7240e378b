package config

import (
	"strings"
	"unicode"
)

// Case says how column names are normalised when no rename applies.
type Case string

// Column name cases.
const (
	// CaseKeep keeps source column names as they are (the default).
	CaseKeep Case = "keep"
	// CaseSnake converts source column names with SnakeCase.
	CaseSnake Case = "snake"
)

// ColumnRules are a table rule's column rules (its columns: key). All names
// in them are source column names, matched case-insensitively because MySQL
// column names are. The zero value keeps every column under its source name.
type ColumnRules struct {
	// Case normalises names that Rename does not cover; "" means CaseKeep.
	Case Case
	// Rename maps a source name to its final name, which Case does not
	// change.
	Rename map[string]string
	// Exclude lists source columns that are dropped.
	Exclude []string
	// Boolean lists tinyint(1) source columns stored as BOOLEAN.
	Boolean []string
}

// Name returns the final name of the source column source and whether the
// column is kept. It applies the rules in order: an excluded column is
// dropped; a renamed column gets its new name as written; any other column
// is normalised by Case. Name does not allocate for kept names under
// CaseKeep, and is safe for concurrent use.
func (c ColumnRules) Name(source string) (name string, keep bool) {
	if containsFold(c.Exclude, source) {
		return "", false
	}
	if to, ok := c.Rename[source]; ok {
		return to, true
	}
	for from, to := range c.Rename {
		if strings.EqualFold(from, source) {
			return to, true
		}
	}
	if c.Case == CaseSnake {
		return SnakeCase(source), true
	}
	return source, true
}

// IsBoolean reports whether the source column source is listed in Boolean.
func (c ColumnRules) IsBoolean(source string) bool {
	return containsFold(c.Boolean, source)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// SnakeCase converts a column name to lower snake case: CustomerId,
// CUSTOMER_ID and customerId all become customer_id, HTTPServer becomes
// http_server and id2Name becomes id2_name. A word starts at an upper-case
// letter that follows a lower-case letter or a digit, or that ends a run of
// upper-case letters and is followed by a lower-case one. Spaces and hyphens
// become underscores; existing underscores are kept as they are.
func SnakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range rs {
		if r == ' ' || r == '-' {
			r = '_'
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
