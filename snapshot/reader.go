package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/schema"
)

// chunkReader reads one shard in key order, a chunk per query: keyset
// pagination (WHERE key > last ORDER BY key LIMIT n, never OFFSET) through
// prepared statements, so values arrive in the binary protocol (floats
// exact, integers as integers).
type chunkReader struct {
	shard  shard
	first  *sql.Stmt
	next   *sql.Stmt
	types  []schema.Type // declared types of the selected columns
	target []int         // for each version column, its index in the select list or -1
	out    []column      // the version's columns
	keyIdx []int         // select-list indexes of the key columns
	zero   map[string]int64
	last   []keyValue
	// extra are source columns out does not have (pageBy nil only).
	extra []string
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// newChunkReader prepares the reading of shard s as the columns out. With
// pageBy (a snapshot) the shard must still have that key and no column
// out lacks; without (verify) such columns are listed in extra.
func newChunkReader(ctx context.Context, db *sql.DB, s shard, rule *config.Table, pageBy []string, out []column, chunkRows int) (*chunkReader, error) {
	ts, err := readSchema(ctx, db, s, rule)
	if err != nil {
		return nil, err
	}
	var page []string
	for _, i := range ts.pageBy {
		page = append(page, ts.cols[i].Source)
	}
	if pageBy != nil && strings.Join(page, ",") != strings.Join(pageBy, ",") {
		return nil, fmt.Errorf("its key changed since the snapshot started (%v, now %v); remove the staging area and start over", pageBy, page)
	}
	rd := &chunkReader{shard: s, out: out, zero: map[string]int64{}}
	var sel []string
	byName := map[string]int{}
	for i, c := range ts.cols {
		sel = append(sel, quoteIdent(c.Source))
		rd.types = append(rd.types, c.Type)
		byName[c.Name] = i
	}
	for _, c := range out {
		i, ok := byName[c.Name]
		if !ok {
			i = -1
		}
		rd.target = append(rd.target, i)
	}
	for name := range byName {
		found := false
		for _, c := range out {
			found = found || c.Name == name
		}
		switch {
		case !found && pageBy != nil:
			return nil, fmt.Errorf("column %s is not in the snapshot's schema version (added since it started?); remove the staging area and start over", name)
		case !found:
			rd.extra = append(rd.extra, name)
		}
	}
	rd.keyIdx = ts.pageBy
	var order, keyCols, params []string
	for _, i := range ts.pageBy {
		c := ts.cols[i]
		order = append(order, quoteIdent(c.Source))
		keyCols = append(keyCols, quoteIdent(c.Source))
		p := "?"
		if c.Type.Kind == schema.Decimal {
			// A string compares with a DECIMAL as a double; a cast keeps
			// it exact.
			p = fmt.Sprintf("CAST(? AS DECIMAL(%d,%d))", c.Type.Precision, c.Type.Scale)
		}
		params = append(params, p)
	}
	var ors []string
	for i := range keyCols {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keyCols[j]+" = "+params[j])
		}
		ands = append(ands, keyCols[i]+" > "+params[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	base := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(s.DB) + "." + quoteIdent(s.Table)
	tail := fmt.Sprintf(" ORDER BY %s LIMIT %d", strings.Join(order, ", "), chunkRows)
	if rd.first, err = db.PrepareContext(ctx, base+tail); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if rd.next, err = db.PrepareContext(ctx, base+" WHERE "+strings.Join(ors, " OR ")+tail); err != nil {
		rd.first.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return rd, nil
}

func (rd *chunkReader) close() {
	rd.first.Close()
	rd.next.Close()
}

// read reads the chunk after last (nil: the first chunk) and returns its
// rows as values of the version's columns, coerced to their types.
func (rd *chunkReader) read(ctx context.Context, last []keyValue) ([][]schema.Value, error) {
	var rows *sql.Rows
	var err error
	if last == nil {
		rows, err = rd.first.QueryContext(ctx)
	} else {
		var args []any
		for i := range rd.keyIdx {
			for j := 0; j <= i; j++ {
				a, err := last[j].arg()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
			}
		}
		rows, err = rd.next.QueryContext(ctx, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	raw := make([]any, len(rd.types))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var out [][]schema.Value
	for rows.Next() {
		clear(raw)
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		vals := make([]schema.Value, len(rd.out))
		for i, c := range rd.out {
			j := rd.target[i]
			if j < 0 {
				continue
			}
			v, err := sourceValue(raw[j], rd.types[j])
			if err == nil {
				var zero bool
				v, zero, err = schema.Coerce(v, c.Type, schema.CoerceOptions{})
				if zero {
					rd.zero[c.Name]++
				}
			}
			if err != nil {
				return nil, fmt.Errorf("column %s of %s: %w", c.Name, rd.shard, err)
			}
			vals[i] = v
		}
		rd.last = rd.last[:0]
		for _, j := range rd.keyIdx {
			k, err := toKeyValue(raw[j])
			if err != nil {
				return nil, fmt.Errorf("key column %d of %s: %w", j, rd.shard, err)
			}
			rd.last = append(rd.last, k)
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// lastKey is the key of the last row read.
func (rd *chunkReader) lastKey() []keyValue {
	return append([]keyValue(nil), rd.last...)
}

// takeZeroDates returns the zero dates counted since the last call.
func (rd *chunkReader) takeZeroDates() map[string]int64 {
	if len(rd.zero) == 0 {
		return nil
	}
	z := rd.zero
	rd.zero = map[string]int64{}
	return z
}
