package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is a MySQL column type family.
type Kind uint8

// MySQL type families. Text covers tinytext … longtext, Blob tinyblob …
// longblob.
const (
	Unknown Kind = iota // not known yet: infer from the values
	TinyInt
	SmallInt
	MediumInt
	Int
	BigInt
	Decimal
	Float
	Double
	Bit
	Date
	DateTime
	Timestamp
	Time
	Year
	Char
	VarChar
	Text
	Enum
	Set
	JSON
	Binary
	VarBinary
	Blob
	// Bool is not a MySQL type: a tinyint column a column rule declares
	// boolean, or a boolean that a producer emitted with no declared type.
	Bool
)

// Type is a column's MySQL type with the parameters that matter for
// storing its values.
type Type struct {
	Kind     Kind
	Unsigned bool
	// Precision is decimal's p, bit's width in bits, and char/binary
	// lengths (informational).
	Precision int
	// Scale is decimal's s and the fractional seconds digits (fsp) of
	// datetime, timestamp and time.
	Scale int
	// Labels are the members of an enum or set, in declaration order.
	Labels []string
}

var kindNames = map[string]Kind{
	"tinyint": TinyInt, "smallint": SmallInt, "mediumint": MediumInt, "int": Int, "integer": Int,
	"bigint": BigInt, "decimal": Decimal, "numeric": Decimal, "dec": Decimal, "fixed": Decimal,
	"float": Float, "double": Double, "real": Double,
	"bit": Bit, "bool": Bool, "boolean": Bool,
	"date": Date, "datetime": DateTime, "timestamp": Timestamp, "time": Time, "year": Year,
	"char": Char, "varchar": VarChar, "tinytext": Text, "text": Text, "mediumtext": Text, "longtext": Text,
	"enum": Enum, "set": Set, "json": JSON,
	"binary": Binary, "varbinary": VarBinary, "tinyblob": Blob, "blob": Blob, "mediumblob": Blob, "longblob": Blob,
}

// Equal reports whether t and u are the same type, labels included.
func (t Type) Equal(u Type) bool { return t.Same(&u) }

// Same reports whether *t and *u are the same type, as Equal does, without
// copying them: for checks made once a value.
func (t *Type) Same(u *Type) bool {
	return t.Kind == u.Kind && t.Unsigned == u.Unsigned && t.Precision == u.Precision &&
		t.Scale == u.Scale && slices.Equal(t.Labels, u.Labels)
}

// String spells the type as MySQL's information_schema.COLUMNS.COLUMN_TYPE
// does (without display widths).
func (t Type) String() string {
	var b strings.Builder
	switch t.Kind {
	case Unknown:
		return "unknown"
	case Bool:
		return "boolean"
	case Decimal:
		fmt.Fprintf(&b, "decimal(%d,%d)", t.Precision, t.Scale)
	case Bit, Char, VarChar, Binary, VarBinary:
		b.WriteString(t.Kind.String())
		if t.Precision > 0 {
			fmt.Fprintf(&b, "(%d)", t.Precision)
		}
	case DateTime, Timestamp, Time:
		b.WriteString(t.Kind.String())
		if t.Scale > 0 {
			fmt.Fprintf(&b, "(%d)", t.Scale)
		}
	case Enum, Set:
		b.WriteString(t.Kind.String())
		b.WriteByte('(')
		for i, l := range t.Labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("'" + strings.ReplaceAll(l, "'", "''") + "'")
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.Kind.String())
	}
	if t.Unsigned {
		b.WriteString(" unsigned")
	}
	return b.String()
}

// String is the MySQL name of the kind.
func (k Kind) String() string {
	switch k {
	case Unknown:
		return "unknown"
	case TinyInt:
		return "tinyint"
	case SmallInt:
		return "smallint"
	case MediumInt:
		return "mediumint"
	case Int:
		return "int"
	case BigInt:
		return "bigint"
	case Decimal:
		return "decimal"
	case Float:
		return "float"
	case Double:
		return "double"
	case Bit:
		return "bit"
	case Date:
		return "date"
	case DateTime:
		return "datetime"
	case Timestamp:
		return "timestamp"
	case Time:
		return "time"
	case Year:
		return "year"
	case Char:
		return "char"
	case VarChar:
		return "varchar"
	case Text:
		return "text"
	case Enum:
		return "enum"
	case Set:
		return "set"
	case JSON:
		return "json"
	case Binary:
		return "binary"
	case VarBinary:
		return "varbinary"
	case Blob:
		return "blob"
	case Bool:
		return "boolean"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseType parses a MySQL column type as information_schema.COLUMNS
// .COLUMN_TYPE, SHOW CREATE TABLE and Canal's mysqlType spell it:
// "int(11) unsigned zerofill", "decimal(10,2)", "enum('a','b”c')",
// "datetime(6)", "varchar(255) CHARACTER SET utf8mb4". Case does not
// matter; display widths are dropped (tinyint(1) is a tinyint).
func ParseType(s string) (Type, error) {
	in := strings.TrimSpace(s)
	lower := strings.ToLower(in)
	name, rest := lower, ""
	if i := strings.IndexAny(lower, "( "); i >= 0 {
		name, rest = lower[:i], lower[i:]
	}
	if name == "double" && strings.HasPrefix(rest, " precision") {
		rest = strings.TrimPrefix(rest, " precision")
	}
	kind, ok := kindNames[name]
	if !ok {
		return Type{}, fmt.Errorf("unknown MySQL type %q", s)
	}
	t := Type{Kind: kind}
	var args string
	if strings.HasPrefix(rest, "(") {
		end := closingParen(in[len(name):])
		if end < 0 {
			return Type{}, fmt.Errorf("MySQL type %q: unbalanced parentheses", s)
		}
		args = in[len(name)+1 : len(name)+end]
		rest = lower[len(name)+end+1:]
	}
	for _, word := range strings.Fields(rest) {
		switch word {
		case "unsigned":
			t.Unsigned = true
		case "signed", "zerofill":
		default:
			// character set, collate, … do not change how values are stored.
		}
	}
	var err error
	switch kind {
	case Enum, Set:
		t.Labels, err = parseLabels(args)
	case Decimal:
		t.Precision, t.Scale = 10, 0
		if args != "" {
			p, sc, _ := strings.Cut(args, ",")
			if t.Precision, err = atoi(p); err == nil && sc != "" {
				t.Scale, err = atoi(sc)
			}
		}
		if err == nil && (t.Precision < 1 || t.Precision > 65 || t.Scale < 0 || t.Scale > 30 || t.Scale > t.Precision) {
			err = fmt.Errorf("precision %d, scale %d out of range", t.Precision, t.Scale)
		}
	case DateTime, Timestamp, Time:
		if args != "" {
			t.Scale, err = atoi(args)
		}
		if err == nil && (t.Scale < 0 || t.Scale > 6) {
			err = fmt.Errorf("fractional seconds precision %d out of range", t.Scale)
		}
	case Bit:
		t.Precision = 1
		if args != "" {
			t.Precision, err = atoi(args)
		}
		if err == nil && (t.Precision < 1 || t.Precision > 64) {
			err = fmt.Errorf("bit width %d out of range", t.Precision)
		}
	case Char, VarChar, Binary, VarBinary:
		if args != "" {
			t.Precision, err = atoi(args)
		}
	case Float, Double:
		// float(p) and double(m,d) change nothing about storage here, but
		// float(p) with p > 24 is a double.
		if kind == Float && args != "" {
			p, _, _ := strings.Cut(args, ",")
			if n, perr := atoi(p); perr == nil && n > 24 && !strings.Contains(args, ",") {
				t.Kind = Double
			}
		}
	}
	if err != nil {
		return Type{}, fmt.Errorf("MySQL type %q: %w", s, err)
	}
	return t, nil
}

// closingParen returns the index of the parenthesis closing the one at
// s[0], skipping quoted labels.
func closingParen(s string) int {
	depth := 0
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// parseLabels parses 'a','b”c' into a, b'c.
func parseLabels(args string) ([]string, error) {
	var labels []string
	s := strings.TrimSpace(args)
	for s != "" {
		if s[0] != '\'' {
			return nil, fmt.Errorf("expected a quoted label at %q", s)
		}
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, fmt.Errorf("unterminated label in %q", args)
		}
		labels = append(labels, b.String())
		s = strings.TrimSpace(s[i+1:])
		if s != "" {
			if s[0] != ',' {
				return nil, fmt.Errorf("expected ',' at %q", s)
			}
			s = strings.TrimSpace(s[1:])
		}
	}
	return labels, nil
}

func atoi(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return n, nil
}
