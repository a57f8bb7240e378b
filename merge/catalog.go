package merge

import (
	"context"
	"fmt"
	"sort"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// catalog holds a table's schema versions and the layouts built from
// them.
type catalog struct {
	table    string
	key      []string
	source   bool
	delta    bool
	versions map[int]*warehouse.SchemaVersion
	layouts  map[int]*layout
}

// loadCatalog reads every schema version of a table (the versioned
// objects, which are the truth; see warehouse.Catalog). Its layouts write
// integer columns DELTA_BINARY_PACKED if delta is set.
func loadCatalog(ctx context.Context, st storage.Store, table string, key []string, includeSource, delta bool) (*catalog, error) {
	c := &catalog{table: table, key: key, source: includeSource, delta: delta, versions: map[int]*warehouse.SchemaVersion{}, layouts: map[int]*layout{}}
	var keys []string
	if err := st.List(ctx, warehouse.CatalogVersionDir(table), func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list schema versions of %s: %w", table, err)
	}
	for _, k := range keys {
		b, err := storage.ReadAll(ctx, st, k)
		if err != nil {
			return nil, err
		}
		v := new(warehouse.SchemaVersion)
		if err := warehouse.Unmarshal(k, b, v); err != nil {
			return nil, err
		}
		c.versions[v.Version] = v
	}
	return c, nil
}

// add records a version known from elsewhere (a manifest's columns) if
// the catalog does not have it.
func (c *catalog) add(version int, cols []warehouse.CatalogColumn) {
	if _, ok := c.versions[version]; !ok {
		c.versions[version] = &warehouse.SchemaVersion{FormatVersion: warehouse.FormatVersion, Version: version, Columns: cols}
	}
}

// latest is the highest version number, 0 if there is none.
func (c *catalog) latest() int {
	var vs []int
	for v := range c.versions {
		vs = append(vs, v)
	}
	sort.Ints(vs)
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}

// layout returns the layout of a version.
func (c *catalog) layout(version int) (*layout, error) {
	if l, ok := c.layouts[version]; ok {
		return l, nil
	}
	v, ok := c.versions[version]
	if !ok {
		return nil, fmt.Errorf("table %s: schema version %d is not in the catalog (%s)", c.table, version, warehouse.CatalogVersionDir(c.table))
	}
	types, err := v.Types()
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", c.table, err)
	}
	l, err := newLayout(version, v.Columns, types, c.key, c.source, c.delta)
	if err != nil {
		return nil, fmt.Errorf("table %s: schema version %d: %w", c.table, version, err)
	}
	c.layouts[version] = l
	return l, nil
}
