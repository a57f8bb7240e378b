package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// router maps physical tables ("db.table") to logical tables by the table
// rules. Decisions are cached, so thousands of shard tables cost one
// regex scan each, not one per record.
type router struct {
	rules  []config.Table
	tables map[string]*tableState // by logical name
	cache  *lru.Cache[string, routed]
	// last is the previous decision: consecutive records are mostly of
	// one table, and checking it needs no allocation.
	last routed
	// recent holds recent decisions by a hash of the names, so the
	// records of thousands of interleaved shards need neither the joined
	// name nor the LRU's lock.
	recent [1024]routed
}

// namesHash hashes a physical table's names for router.recent (FNV-1a:
// the names are short, and a collision costs only a look-up in the LRU).
func namesHash(db, table string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(db); i++ {
		h = (h ^ uint64(db[i])) * prime
	}
	h = (h ^ '.') * prime
	for i := 0; i < len(table); i++ {
		h = (h ^ uint64(table[i])) * prime
	}
	return h
}

// routed is a routing decision with the physical names, kept so buffered
// rows share one copy of them.
type routed struct {
	db, table string
	t         *tableState
	ok        bool // a decision, not an empty slot
}

func newRouter(rules []config.Table) (*router, error) {
	cache, err := lru.New[string, routed](65536)
	if err != nil {
		return nil, err
	}
	r := &router{rules: rules, tables: map[string]*tableState{}, cache: cache}
	for i := range rules {
		r.tables[rules[i].Name] = &tableState{rule: &rules[i], names: map[string]mappedName{}}
	}
	return r, nil
}

// errAmbiguous is a physical table two rules match.
type errAmbiguous struct{ physical, a, b string }

func (e errAmbiguous) Error() string {
	return fmt.Sprintf("table %s matches the rules of both %s and %s: make the match patterns exclusive", e.physical, e.a, e.b)
}

// route returns the logical table of db.table, or nil when no rule
// matches, and the router's copies of db and table, which outlive the
// message the names came in (empty on error).
func (r *router) route(db, table string) (*tableState, string, string, error) {
	if r.last.ok && r.last.db == db && r.last.table == table {
		return r.last.t, r.last.db, r.last.table, nil
	}
	slot := &r.recent[namesHash(db, table)%uint64(len(r.recent))]
	if slot.ok && slot.db == db && slot.table == table {
		r.last = *slot
		return slot.t, slot.db, slot.table, nil
	}
	physical := db + "." + table
	if d, ok := r.cache.Get(physical); ok {
		r.last, *slot = d, d
		return d.t, d.db, d.table, nil
	}
	var found *tableState
	for i := range r.rules {
		if !r.rules[i].Match.MatchString(physical) {
			continue
		}
		if found != nil {
			return nil, "", "", errAmbiguous{physical, found.rule.Name, r.rules[i].Name}
		}
		found = r.tables[r.rules[i].Name]
	}
	d := routed{strings.Clone(db), strings.Clone(table), found, true}
	r.cache.Add(physical, d)
	r.last, *slot = d, d
	return found, d.db, d.table, nil
}

// physicalTable names a source table by the router's copies of its names.
type physicalTable struct{ db, table string }

// mappedName is a source column's fate under the column rules.
type mappedName struct {
	name string
	keep bool
}

// tableState is a logical table during a run: its rule and its schema.
type tableState struct {
	rule  *config.Table
	names map[string]mappedName
	// plan caches, by position in a row image, what the run needs of a
	// source column: the records of a table list their columns in the
	// same order, so the lookups happen once, not per value.
	plan []planColumn

	loaded bool
	// catalog is the table's catalog but for its versions.
	catalog warehouse.Catalog
	// cols and types are the current columns; index maps names to them.
	cols  []warehouse.CatalogColumn
	types []schema.Type
	index map[string]int
	// persisted is the number of the latest version in the warehouse;
	// changes made since then become version persisted+1 before the next
	// file of the table is written.
	persisted int
	changes   []string
	// stored is the write of the latest version this run made (nil: none).
	stored *catalogWrite
	// failed is set when the table met an incompatible schema change:
	// its records go to the dead-letter queue until the user acts.
	failed error
	rows   int64
	// generation counts type widenings, so the rows of a record built
	// before a widening are coerced again to the wider type.
	generation int
}

// column maps a source column name through the rule's column rules.
func (t *tableState) column(source string) mappedName {
	m, ok := t.names[source]
	if !ok {
		// The names outlive the message they came in.
		source = strings.Clone(source)
		m.name, m.keep = t.rule.Columns.Name(source)
		m.name = strings.Clone(m.name)
		t.names[source] = m
	}
	return m
}

// planColumn is a source column's fate under the column rules and its
// place in the schema.
type planColumn struct {
	source  string
	name    string
	keep    bool
	boolean bool // a column rule declares it boolean
	index   int  // in cols; -1 while the schema has no such column
}

// planFor returns the plan of source, the j-th column of a row image.
// The caller may set its index once the column is added.
func (t *tableState) planFor(j int, source string) *planColumn {
	if j < len(t.plan) && t.plan[j].source == source {
		return &t.plan[j]
	}
	m := t.column(source)
	p := planColumn{source: strings.Clone(source), name: m.name, keep: m.keep, boolean: t.rule.Columns.IsBoolean(source), index: -1}
	if i, ok := t.index[m.name]; ok {
		p.index = i
	}
	if j >= len(t.plan) {
		t.plan = append(t.plan, make([]planColumn, j+1-len(t.plan))...)
	}
	t.plan[j] = p
	return &t.plan[j]
}

// load reads the table's latest catalog version.
func (t *tableState) load(ctx context.Context, st storage.Store) error {
	if t.loaded {
		return nil
	}
	var latest string
	err := st.List(ctx, warehouse.CatalogVersionDir(t.rule.Name), func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".json") {
			latest = o.Key
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("table %s: list catalog: %w", t.rule.Name, err)
	}
	t.catalog = warehouse.Catalog{
		FormatVersion:     warehouse.FormatVersion,
		Table:             t.rule.Name,
		Key:               t.rule.Key,
		KeyIncludesSource: t.rule.KeyIncludesSource,
	}
	t.index = map[string]int{}
	if latest != "" {
		b, err := storage.ReadAll(ctx, st, latest)
		if err != nil {
			return fmt.Errorf("table %s: read catalog: %w", t.rule.Name, err)
		}
		var v warehouse.SchemaVersion
		if err := warehouse.Unmarshal(latest, b, &v); err != nil {
			return fmt.Errorf("table %s: %w", t.rule.Name, err)
		}
		types, err := v.Types()
		if err != nil {
			return fmt.Errorf("table %s: %w", t.rule.Name, err)
		}
		t.cols, t.types, t.persisted = slices.Clone(v.Columns), types, v.Version
		for i, c := range t.cols {
			t.index[c.Name] = i
		}
	}
	t.loaded = true
	return nil
}

// addColumn appends a column to the current schema.
func (t *tableState) addColumn(name string, typ schema.Type) int {
	t.cols = append(t.cols, warehouse.CatalogColumn{Name: name, Type: typ.String()})
	t.types = append(t.types, typ)
	t.index[name] = len(t.cols) - 1
	t.changes = append(t.changes, fmt.Sprintf("column added: %s %s", name, typ))
	return len(t.cols) - 1
}

// widen changes a column's type.
func (t *tableState) widen(i int, typ schema.Type) {
	t.changes = append(t.changes, fmt.Sprintf("column widened: %s %s → %s", t.cols[i].Name, t.types[i], typ))
	t.types[i] = typ
	t.cols[i].Type = typ.String()
	t.generation++
}

// catalogWrite is the writing of one catalog version, which may be in
// flight: a file of that version is written once it succeeded.
type catalogWrite struct {
	done chan struct{}
	err  error // valid once done is closed
}

// wait waits for the write, if there is one, and returns its error.
func (w *catalogWrite) wait(ctx context.Context) error {
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// persist makes the table's schema, if it changed, the next catalog
// version and starts writing it on wg, after the previous version this run
// wrote. The run goes on meanwhile: the writes, and their fsyncs, would
// otherwise hold up every row behind them, as the first row of a new table
// does. t.stored is the write a file of the version waits for.
func (t *tableState) persist(ctx context.Context, st storage.Store, created time.Time, wg *sync.WaitGroup) {
	if len(t.changes) == 0 {
		return
	}
	v := warehouse.SchemaVersion{
		FormatVersion: warehouse.FormatVersion,
		Version:       t.persisted + 1,
		Created:       created.UTC(),
		Reason:        strings.Join(t.changes, "; "),
		Columns:       slices.Clone(t.cols),
	}
	if t.persisted == 0 {
		v.Reason = "learned from the stream: " + v.Reason
	}
	t.persisted, t.changes = v.Version, nil
	prev, w, view := t.stored, &catalogWrite{done: make(chan struct{})}, t.catalog
	t.stored = w
	wg.Go(func() {
		defer close(w.done)
		if w.err = prev.wait(ctx); w.err == nil {
			w.err = writeVersion(ctx, st, view, v)
		}
	})
}

// writeVersion creates schema version v of the table of catalog c (whose
// versions it ignores). Two writers cannot both create a version. Runs
// that learn a new table or column from the same stream at once (several
// processes owning its partitions) create the same columns: the loser
// finds the winner's version equal to its own and goes on. A version with
// other columns fails the loser, whose files were laid out for its own;
// its rerun reads the winner's version.
func writeVersion(ctx context.Context, st storage.Store, c warehouse.Catalog, v warehouse.SchemaVersion) error {
	b, err := warehouse.Marshal(v)
	if err != nil {
		return err
	}
	key := warehouse.CatalogVersionKey(c.Table, v.Version)
	if err := st.PutIfAbsent(ctx, key, b); err != nil {
		if !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("table %s: create schema version %d: %w", c.Table, v.Version, err)
		}
		lost := fmt.Sprintf("table %s: schema version %d was created by another run meanwhile", c.Table, v.Version)
		theirs, err := storage.ReadAll(ctx, st, key)
		if err != nil {
			return fmt.Errorf("%s, and reading it failed: %w; run again to continue from it", lost, err)
		}
		var w warehouse.SchemaVersion
		if err := warehouse.Unmarshal(key, theirs, &w); err != nil {
			return fmt.Errorf("%s: %w", lost, err)
		}
		if !slices.Equal(w.Columns, v.Columns) {
			return fmt.Errorf("%s with other columns (its: %s; this run's: %s); run again to continue from it", lost, columnsText(w.Columns), columnsText(v.Columns))
		}
		// The winner writes the combined view.
		return nil
	}
	// The combined view for people and tools; the versioned objects are
	// the truth.
	if c.Versions, err = allVersions(ctx, st, c.Table); err != nil {
		return err
	}
	view, err := warehouse.Marshal(c)
	if err != nil {
		return err
	}
	return st.Put(ctx, warehouse.CatalogKey(c.Table), bytes.NewReader(view))
}

// columnsText lists columns as "name type, …" for messages.
func columnsText(cols []warehouse.CatalogColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + c.Type
	}
	return strings.Join(parts, ", ")
}

// allVersions reads every schema version of a table.
func allVersions(ctx context.Context, st storage.Store, table string) ([]warehouse.SchemaVersion, error) {
	var keys []string
	if err := st.List(ctx, warehouse.CatalogVersionDir(table), func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return nil, err
	}
	var out []warehouse.SchemaVersion
	for _, k := range keys {
		b, err := storage.ReadAll(ctx, st, k)
		if err != nil {
			return nil, err
		}
		var v warehouse.SchemaVersion
		if err := warehouse.Unmarshal(k, b, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
