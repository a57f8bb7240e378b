package workload

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/schema"
)

// The canonical text of each column kind, whatever type binlake stored it
// as (it is DuckDB's canonical form of the type in the last column, as
// internal/duckdbtest prints it):
//
//	Int        decimal integer                     BIGINT
//	Decimal    exactly Scale fractional digits     DECIMAL(p,s)
//	Text, Enum the text                            VARCHAR
//	DateTime,  YYYY-MM-DDTHH:MM:SS.ffffff          TIMESTAMP
//	Timestamp
//	Date       YYYY-MM-DD                          DATE
const timestampLayout = "2006-01-02T15:04:05.000000"

// CanonicalSQL is the DuckDB expression that renders column c of a
// Parquet file in canonical form, whichever type binlake gave it.
func (c Column) CanonicalSQL() string {
	q := `"` + c.Name + `"`
	switch c.Kind {
	case Int:
		return "CAST(" + q + " AS BIGINT)"
	case Decimal:
		return fmt.Sprintf("CAST(%s AS DECIMAL(%d,%d))", q, c.Precision, c.Scale)
	case DateTime, Timestamp:
		return "CAST(" + q + " AS TIMESTAMP)"
	case Date:
		return "CAST(" + q + " AS DATE)"
	}
	return "CAST(" + q + " AS VARCHAR)"
}

// Expect renders a model value in canonical form; nil for NULL.
func (c Column) Expect(v any) *string {
	if v == nil {
		return nil
	}
	var s string
	switch c.Kind {
	case DateTime, Timestamp:
		s = v.(time.Time).UTC().Format(timestampLayout)
	default:
		s = text(c, v)
	}
	return &s
}

// Canonical renders a value binlake stored for column c in canonical form:
// integers, decimals, doubles (inferred for decimals), text (inferred for
// dates and times), dates and timestamps. It fails on a value that cannot
// stand for the column.
func (c Column) Canonical(v schema.Value) (*string, error) {
	if v.IsNull() {
		return nil, nil
	}
	bad := func() (*string, error) {
		return nil, fmt.Errorf("column %s (%s): cannot read a %s value %s", c.Name, c.MySQL, v.Kind, v.String())
	}
	var s string
	switch c.Kind {
	case Int:
		switch v.Kind {
		case schema.IntV:
			s = strconv.FormatInt(v.I, 10)
		case schema.DecimalV:
			s = v.S
		default:
			return bad()
		}
	case Decimal:
		switch v.Kind {
		case schema.DecimalV, schema.IntV:
			n := v.S
			if v.Kind == schema.IntV {
				n = strconv.FormatInt(v.I, 10)
			}
			r, ok := new(big.Rat).SetString(n)
			if !ok {
				return bad()
			}
			s = r.FloatString(c.Scale)
		case schema.FloatV:
			u := math.Round(v.F * math.Pow10(c.Scale))
			s = decimalText(int64(u), c.Scale)
		default:
			return bad()
		}
	case DateTime, Timestamp:
		switch v.Kind {
		case schema.DateTimeV, schema.TimestampV:
			s = time.UnixMicro(v.I).UTC().Format(timestampLayout)
		case schema.StringV:
			t, err := time.Parse("2006-01-02 15:04:05.999999", v.S)
			if err != nil {
				return bad()
			}
			s = t.Format(timestampLayout)
		default:
			return bad()
		}
	case Date:
		switch v.Kind {
		case schema.DateV:
			s = time.Unix(v.I*86400, 0).UTC().Format(time.DateOnly)
		case schema.StringV:
			if _, err := time.Parse(time.DateOnly, v.S); err != nil {
				return bad()
			}
			s = v.S
		default:
			return bad()
		}
	default:
		if v.Kind != schema.StringV {
			return bad()
		}
		s = v.S
	}
	return &s, nil
}

// ExpectRow renders an expected row: _source_db, _source_table, then each
// column in canonical form.
func (t *Table) ExpectRow(r ExpectedRow) []*string {
	out := []*string{&r.DB, &r.Tbl}
	for i, c := range t.Columns {
		out = append(out, c.Expect(r.Row[i]))
	}
	return out
}

// SelectSQL is the DuckDB query that reads the table's rows in canonical
// form, in the order of Expected, from the Parquet files given as a
// read_parquet argument.
func (t *Table) SelectSQL(files string) string {
	cols := []string{"_source_db", "_source_table"}
	for _, c := range t.Columns {
		cols = append(cols, c.CanonicalSQL())
	}
	return fmt.Sprintf("SELECT %s FROM read_parquet(%s) ORDER BY _source_db, _source_table, id", strings.Join(cols, ", "), files)
}

// CompareKeys orders canonical rows (as ExpectRow makes them) as Expected
// does: by _source_db, _source_table, then id as a number.
func CompareKeys(a, b []*string) int {
	for i := range 2 {
		if c := strings.Compare(*a[i], *b[i]); c != 0 {
			return c
		}
	}
	x, _ := strconv.ParseInt(*a[2], 10, 64)
	y, _ := strconv.ParseInt(*b[2], 10, 64)
	return cmp.Compare(x, y)
}
