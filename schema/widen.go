package schema

import (
	"slices"
	"strconv"
)

// Infer returns the type learned from a value when a column has no
// declared type (a producer without schema, such as Maxwell or rowjson,
// and no snapshot from MySQL yet):
//
//	IntV        bigint
//	UintV       bigint unsigned
//	DecimalV    bigint or bigint unsigned when it is integer text without a
//	            point or exponent that fits; decimal(n,0) for a longer
//	            integer (up to 65 digits); double otherwise
//	FloatV      double
//	StringV     text
//	BytesV      blob
//	BoolV       boolean
//	DateV       date
//	DateTimeV   datetime(6)
//	TimestampV  timestamp(6)
//	TimeV       time(6)
//	NULL        unknown (learn from a later value)
//
// Inferred decimals are doubles: a value such as 12.30 says nothing about
// the column's precision and scale, and the next value could need more.
// Columns that need exact decimals must get their types from MySQL (binlake
// snapshot) or from a declared type in the table rule; DecimalV stays
// exact only with a declared decimal type.
func Infer(v Value) Type {
	switch v.Kind {
	case IntV:
		return Type{Kind: BigInt}
	case UintV:
		return Type{Kind: BigInt, Unsigned: true}
	case DecimalV:
		var d decNum
		if d.parse(v.S) == nil && d.isInteger() && !hasPointOrExponent(v.S) {
			if u, ok := d.uint64(); ok {
				if !d.neg && u > 1<<63-1 {
					return Type{Kind: BigInt, Unsigned: true}
				}
				if u <= 1<<63 {
					return Type{Kind: BigInt}
				}
			}
			if n := d.intDigits(); n <= 65 {
				return Type{Kind: Decimal, Precision: max(n, 1)}
			}
		}
		return Type{Kind: Double}
	case FloatV:
		return Type{Kind: Double}
	case StringV:
		return Type{Kind: Text}
	case BytesV:
		return Type{Kind: Blob}
	case BoolV:
		return Type{Kind: Bool}
	case DateV:
		return Type{Kind: Date}
	case DateTimeV:
		return Type{Kind: DateTime, Scale: 6}
	case TimestampV:
		return Type{Kind: Timestamp, Scale: 6}
	case TimeV:
		return Type{Kind: Time, Scale: 6}
	}
	return Type{}
}

func hasPointOrExponent(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

// TypeChangeError is a column type change that no type holds both sides
// of. Its message names both types: "incompatible type change: int →
// varchar(10)"; the caller adds the table and column.
type TypeChangeError struct {
	Old, New Type
	Reason   string // may be empty
}

// Error names both types.
func (e *TypeChangeError) Error() string {
	msg := "incompatible type change: " + e.Old.String() + " → " + e.New.String()
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Widen returns the type that holds the values of both old and new, for a
// column whose type changed (a MySQL ALTER, or a value that does not fit
// the type inferred so far): widened types widen, they never narrow. The
// lattice (symmetric unless noted; "int" is any of tinyint, smallint,
// mediumint, int, bigint):
//
//	old \ new                          result
//	unknown, T                         T (either side)
//	T, T                               T
//	int, int (same signedness)         the wider kind: int → bigint
//	int unsigned, int (signed)         the narrowest signed kind holding both:
//	                                   tinyint unsigned + tinyint → smallint,
//	                                   int unsigned + int → bigint
//	bigint unsigned, any signed int    decimal(20,0)
//	int, decimal(p,s)                  decimal with the int's digits (tinyint 3,
//	                                   smallint 5, mediumint 7/8 unsigned, int 10,
//	                                   bigint 19/20 unsigned) as decimal(d,0)
//	decimal(p1,s1), decimal(p2,s2)     decimal(max(p1-s1,p2-s2) + max(s1,s2),
//	                                   max(s1,s2)); more than 65 digits is an error
//	float, double                      double
//	int or decimal, float or double    double (lossy past 2^53; arises with
//	                                   inferred types)
//	bit(m), bit(n)                     bit(max(m,n))
//	char(m), char(n)                   char(max(m,n))
//	char, varchar                      varchar(max(m,n))
//	char or varchar, text              text
//	json, char/varchar/text            text
//	enum or set, char/varchar/text     text
//	enum(a…), enum(a…,x…)              enum(a…,x…): labels may only be appended
//	                                   (old → new); reordered or removed labels
//	                                   are an error; the same for set
//	binary(m), binary(n)               binary(max(m,n))
//	binary, varbinary                  varbinary(max(m,n))
//	binary or varbinary, blob          blob
//	date, datetime(n)                  datetime(n)
//	datetime(m), datetime(n)           datetime(max(m,n)); the same for
//	                                   timestamp and time
//
// Anything else — int → varchar, datetime → int, datetime → timestamp,
// text → blob, enum → set — is a *TypeChangeError naming both types:
// "incompatible type change: int → varchar(10)".
func Widen(old, new Type) (Type, error) {
	switch {
	case old.Kind == Unknown:
		return new, nil
	case new.Kind == Unknown, old.Equal(new):
		return old, nil
	}
	fail := func(reason string) (Type, error) {
		return Type{}, &TypeChangeError{Old: old, New: new, Reason: reason}
	}
	a, b := old, new
	fa, fb := family(a.Kind), family(b.Kind)
	if fa > fb {
		a, b = b, a
		fa, fb = fb, fa
	}
	switch {
	case fa == famInt && fb == famInt:
		return widenInts(a, b), nil
	case fa == famInt && fb == famDecimal:
		return widenDecimals(intAsDecimal(a), b, fail)
	case fa == famDecimal && fb == famDecimal:
		return widenDecimals(a, b, fail)
	case (fa == famInt || fa == famDecimal || fa == famFloat) && fb == famFloat:
		if a.Kind == Float && b.Kind == Float {
			return Type{Kind: Float}, nil
		}
		return Type{Kind: Double}, nil
	case fa == famBit && fb == famBit && a.Kind == Bit && b.Kind == Bit:
		return Type{Kind: Bit, Precision: max(a.Precision, b.Precision)}, nil
	case fa == famString && fb == famString:
		return widenStrings(old, new, fail)
	case fa == famBinary && fb == famBinary:
		return widenRanked(a, b, Binary, VarBinary, Blob), nil
	case fa == famTime && fb == famTime:
		switch {
		case a.Kind == b.Kind && a.Kind != Date:
			return Type{Kind: a.Kind, Scale: max(a.Scale, b.Scale)}, nil
		case a.Kind == Date && b.Kind == DateTime:
			return b, nil
		case b.Kind == Date && a.Kind == DateTime:
			return a, nil
		}
	}
	return fail("")
}

type typeFamily uint8

const (
	famOther typeFamily = iota
	famInt
	famDecimal
	famFloat
	famBit
	famString
	famBinary
	famTime
)

func family(k Kind) typeFamily {
	switch k {
	case TinyInt, SmallInt, MediumInt, Int, BigInt:
		return famInt
	case Decimal:
		return famDecimal
	case Float, Double:
		return famFloat
	case Bit, Bool:
		return famBit
	case Char, VarChar, Text, JSON, Enum, Set:
		return famString
	case Binary, VarBinary, Blob:
		return famBinary
	case Date, DateTime, Timestamp, Time:
		return famTime
	}
	return famOther
}

// intRank orders the integer kinds by width.
func intRank(k Kind) int { return int(k - TinyInt) }

var intByRank = [...]Kind{TinyInt, SmallInt, MediumInt, Int, BigInt}

func widenInts(a, b Type) Type {
	ra, rb := intRank(a.Kind), intRank(b.Kind)
	if a.Unsigned == b.Unsigned {
		return Type{Kind: intByRank[max(ra, rb)], Unsigned: a.Unsigned}
	}
	u, s := a, b
	if s.Unsigned {
		u, s = s, u
	}
	ru := intRank(u.Kind)
	if u.Kind == BigInt {
		return Type{Kind: Decimal, Precision: 20}
	}
	return Type{Kind: intByRank[max(ru+1, intRank(s.Kind))]}
}

// intAsDecimal is the decimal(d,0) that holds every value of an integer
// type.
func intAsDecimal(t Type) Type {
	lo, hi := intRange(t.Kind, t.Unsigned)
	d := len(strconv.FormatUint(hi, 10))
	if n := len(strconv.FormatInt(lo, 10)) - 1; n > d {
		d = n
	}
	return Type{Kind: Decimal, Precision: d}
}

func widenDecimals(a, b Type, fail func(string) (Type, error)) (Type, error) {
	intDigits := max(a.Precision-a.Scale, b.Precision-b.Scale)
	scale := max(a.Scale, b.Scale)
	if intDigits+scale > 65 {
		return fail("needs decimal(" + strconv.Itoa(intDigits+scale) + "," + strconv.Itoa(scale) + "), more than MySQL's 65 digits")
	}
	return Type{Kind: Decimal, Precision: intDigits + scale, Scale: scale}, nil
}

// widenRanked widens within a family ordered fixed < variable < unbounded
// (char < varchar < text; binary < varbinary < blob).
func widenRanked(a, b Type, fixed, variable, unbounded Kind) Type {
	switch {
	case a.Kind == unbounded || b.Kind == unbounded:
		return Type{Kind: unbounded}
	case a.Kind == fixed && b.Kind == fixed:
		return Type{Kind: fixed, Precision: max(a.Precision, b.Precision)}
	}
	return Type{Kind: variable, Precision: max(a.Precision, b.Precision)}
}

func widenStrings(old, new Type, fail func(string) (Type, error)) (Type, error) {
	labelled := func(k Kind) bool { return k == Enum || k == Set }
	switch {
	case labelled(old.Kind) && old.Kind == new.Kind:
		if len(new.Labels) < len(old.Labels) || !slices.Equal(old.Labels, new.Labels[:len(old.Labels)]) {
			return fail("labels may only be appended")
		}
		return new, nil
	case labelled(old.Kind) && labelled(new.Kind):
		return fail("")
	case old.Kind == JSON || new.Kind == JSON || labelled(old.Kind) || labelled(new.Kind):
		return Type{Kind: Text}, nil
	}
	return widenRanked(old, new, Char, VarChar, Text), nil
}
