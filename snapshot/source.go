package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/schema"
)

// Open connects to a source: its DSN with the session time zone set to
// UTC (DESIGN.md §7) and TLS when the source asks for it.
func Open(name string, src config.Source) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(src.DSN)
	if err != nil {
		return nil, fmt.Errorf("source %s: invalid DSN: %w", name, err)
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	if src.TLS && cfg.TLSConfig == "" {
		cfg.TLSConfig = "true"
	}
	cfg.ParseTime = false
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	return sql.OpenDB(conn), nil
}

// shard is one physical table of a logical table.
type shard struct {
	Source string `json:"source"`
	DB     string `json:"db"`
	Table  string `json:"table"`
}

func (s shard) String() string { return s.DB + "." + s.Table }

// systemSchemas are never snapshot.
var systemSchemas = []string{"information_schema", "mysql", "performance_schema", "sys"}

// discover lists the base tables of a source that the rule matches, in
// name order.
func discover(ctx context.Context, db *sql.DB, source string, rule *config.Table) ([]shard, error) {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'`)
	if err != nil {
		return nil, fmt.Errorf("source %s: list tables: %w", source, err)
	}
	defer rows.Close()
	var out []shard
	for rows.Next() {
		var s shard
		if err := rows.Scan(&s.DB, &s.Table); err != nil {
			return nil, fmt.Errorf("source %s: list tables: %w", source, err)
		}
		if slices.Contains(systemSchemas, strings.ToLower(s.DB)) || !rule.Match.MatchString(s.DB+"."+s.Table) {
			continue
		}
		s.Source = source
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("source %s: list tables: %w", source, err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DB != out[j].DB {
			return out[i].DB < out[j].DB
		}
		return out[i].Table < out[j].Table
	})
	return out, nil
}

// column is a source column of a shard.
type column struct {
	Source  string      // name in the source
	Name    string      // output name after the column rules
	Type    schema.Type // as declared (information_schema.COLUMNS.COLUMN_TYPE)
	Comment string      // COLUMN_COMMENT
	NotNull bool        // IS_NULLABLE = NO
}

// tableSchema is what a shard looks like: its kept columns in source
// order and the columns of the key the snapshot pages by.
type tableSchema struct {
	cols []column
	// pageBy are indexes into cols of the key, in key order.
	pageBy []int
}

// readSchema reads a shard's columns and the key to page by: the rule's
// key (output names), which must be the primary key or a unique key of NOT
// NULL columns, so that keyset pagination visits every row once.
func readSchema(ctx context.Context, db *sql.DB, s shard, rule *config.Table) (*tableSchema, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_COMMENT FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, s.DB, s.Table)
	if err != nil {
		return nil, fmt.Errorf("table %s: read columns: %w", s, err)
	}
	ts := &tableSchema{}
	nullable := map[string]bool{}
	for rows.Next() {
		var name, typ, null, comment string
		if err := rows.Scan(&name, &typ, &null, &comment); err != nil {
			rows.Close()
			return nil, fmt.Errorf("table %s: read columns: %w", s, err)
		}
		nullable[strings.ToLower(name)] = null == "YES"
		out, keep := rule.Columns.Name(name)
		if !keep {
			continue
		}
		t, err := schema.ParseType(typ)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("table %s column %s: %w", s, name, err)
		}
		if rule.Columns.IsBoolean(name) {
			t = schema.Type{Kind: schema.Bool}
		}
		ts.cols = append(ts.cols, column{Source: name, Name: out, Type: t, Comment: comment, NotNull: null == "NO"})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table %s: read columns: %w", s, err)
	}
	if len(ts.cols) == 0 {
		return nil, fmt.Errorf("table %s: no columns (was it dropped?)", s)
	}

	// Unique keys: index name → columns in order.
	rows, err = db.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`, s.DB, s.Table)
	if err != nil {
		return nil, fmt.Errorf("table %s: read keys: %w", s, err)
	}
	unique := map[string][]string{}
	for rows.Next() {
		var idx, col string
		if err := rows.Scan(&idx, &col); err != nil {
			rows.Close()
			return nil, fmt.Errorf("table %s: read keys: %w", s, err)
		}
		unique[idx] = append(unique[idx], strings.ToLower(col))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table %s: read keys: %w", s, err)
	}

	// The rule's key (configuration requires one) must be the primary key
	// or a unique key of NOT NULL columns.
	if len(rule.Key) == 0 {
		return nil, fmt.Errorf("rule %s has no key", rule.Name)
	}
	var want []string // source column names, lower case
	for _, k := range rule.Key {
		i := slices.IndexFunc(ts.cols, func(c column) bool { return c.Name == k })
		if i < 0 {
			return nil, fmt.Errorf("table %s: key column %s of rule %s is not a column of it (after the column rules)", s, k, rule.Name)
		}
		want = append(want, strings.ToLower(ts.cols[i].Source))
	}
	ok := false
	for _, cols := range unique {
		if slices.Equal(cols, want) && !slices.ContainsFunc(cols, func(c string) bool { return nullable[c] }) {
			ok = true
		}
	}
	if !ok {
		what := "is neither its primary key nor a unique key of NOT NULL columns"
		if _, pk := unique["PRIMARY"]; !pk {
			what = "is not a unique key of NOT NULL columns, and the table has no primary key"
		}
		return nil, fmt.Errorf("table %s: the key %v of rule %s %s; snapshot pages through the table by such a key", s, rule.Key, rule.Name, what)
	}
	for _, w := range want {
		i := slices.IndexFunc(ts.cols, func(c column) bool { return strings.EqualFold(c.Source, w) })
		if i < 0 {
			return nil, fmt.Errorf("table %s: key column %s is excluded by the column rules of %s", s, w, rule.Name)
		}
		ts.pageBy = append(ts.pageBy, i)
	}
	return ts, nil
}

// unify merges the schemas of a table's shards into one list of columns:
// in the order first seen, each type widened to hold every shard's, NOT
// NULL when every shard says so, with the first shard's comment.
func unify(schemas map[shard]*tableSchema, order []shard) ([]column, error) {
	var out []column
	index := map[string]int{}
	for _, s := range order {
		for _, c := range schemas[s].cols {
			i, ok := index[c.Name]
			if !ok {
				index[c.Name] = len(out)
				out = append(out, column{Name: c.Name, Type: c.Type, Comment: c.Comment, NotNull: c.NotNull})
				continue
			}
			out[i].NotNull = out[i].NotNull && c.NotNull
			w, err := schema.Widen(out[i].Type, c.Type)
			if err != nil {
				var tce *schema.TypeChangeError
				if errors.As(err, &tce) {
					return nil, fmt.Errorf("column %s is %s in one shard and %s in %s: %w", c.Name, out[i].Type, c.Type, s, err)
				}
				return nil, err
			}
			out[i].Type = w
		}
	}
	return out, nil
}
