package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// ensureCatalog makes sure the table's catalog has a schema version that
// holds cols and returns it. With no version yet it creates version 1 from
// cols, with their comments and NOT NULL flags. When the latest version already holds them unchanged it is
// reused; otherwise a new version keeps the latest's columns (widened to
// the source's types where they differ) and appends the new ones, so every
// file ingest wrote before still reads under it.
func ensureCatalog(ctx context.Context, st storage.Store, rule *config.Table, key []string, cols []column, reason string, now time.Time) (*warehouse.SchemaVersion, error) {
	versions, err := readVersions(ctx, st, rule.Name)
	if err != nil {
		return nil, err
	}
	next := warehouse.SchemaVersion{FormatVersion: warehouse.FormatVersion, Version: 1, Created: now.UTC(), Reason: reason}
	if n := len(versions); n > 0 {
		latest := versions[n-1]
		types, err := latest.Types()
		if err != nil {
			return nil, err
		}
		out := slices.Clone(latest.Columns)
		var changes []string
		for _, c := range cols {
			i := slices.IndexFunc(out, func(o warehouse.CatalogColumn) bool { return o.Name == c.Name })
			if i < 0 {
				out = append(out, catalogColumn(c))
				changes = append(changes, "column added: "+c.Name+" "+c.Type.String())
				continue
			}
			w, err := schema.Widen(types[i], c.Type)
			if err != nil {
				return nil, fmt.Errorf("table %s column %s: the catalog has %s (version %d) but the source has %s: %w", rule.Name, c.Name, types[i], latest.Version, c.Type, err)
			}
			if !w.Equal(types[i]) {
				out[i].Type = w.String()
				changes = append(changes, fmt.Sprintf("column widened: %s %s → %s", c.Name, types[i], w))
			}
		}
		if len(changes) == 0 {
			return &latest, nil
		}
		next.Version = latest.Version + 1
		next.Columns = out
		next.Reason = reason + ": " + strings.Join(changes, "; ")
	} else {
		for _, c := range cols {
			next.Columns = append(next.Columns, catalogColumn(c))
		}
	}
	b, err := warehouse.Marshal(next)
	if err != nil {
		return nil, err
	}
	if err := st.PutIfAbsent(ctx, warehouse.CatalogVersionKey(rule.Name, next.Version), b); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("table %s: schema version %d was created by another run meanwhile; run again", rule.Name, next.Version)
		}
		return nil, fmt.Errorf("table %s: create schema version %d: %w", rule.Name, next.Version, err)
	}
	view := warehouse.Catalog{FormatVersion: warehouse.FormatVersion, Table: rule.Name, Key: key,
		KeyIncludesSource: rule.KeyIncludesSource, Versions: append(versions, next)}
	vb, err := warehouse.Marshal(view)
	if err != nil {
		return nil, err
	}
	if err := st.Put(ctx, warehouse.CatalogKey(rule.Name), bytes.NewReader(vb)); err != nil {
		return nil, fmt.Errorf("table %s: write catalog: %w", rule.Name, err)
	}
	return &next, nil
}

func catalogColumn(c column) warehouse.CatalogColumn {
	return warehouse.CatalogColumn{Name: c.Name, Type: c.Type.String(), Comment: c.Comment, NotNull: c.NotNull}
}

// readVersions reads every schema version of a table, oldest first.
func readVersions(ctx context.Context, st storage.Store, table string) ([]warehouse.SchemaVersion, error) {
	var keys []string
	if err := st.List(ctx, warehouse.CatalogVersionDir(table), func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".json") {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("table %s: list catalog: %w", table, err)
	}
	slices.Sort(keys)
	var out []warehouse.SchemaVersion
	for _, k := range keys {
		b, err := storage.ReadAll(ctx, st, k)
		if err != nil {
			return nil, fmt.Errorf("table %s: read %s: %w", table, k, err)
		}
		var v warehouse.SchemaVersion
		if err := warehouse.Unmarshal(k, b, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// readVersion reads one schema version.
func readVersion(ctx context.Context, st storage.Store, table string, version int) (*warehouse.SchemaVersion, error) {
	key := warehouse.CatalogVersionKey(table, version)
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("table %s: read %s: %w", table, key, err)
	}
	v := new(warehouse.SchemaVersion)
	if err := warehouse.Unmarshal(key, b, v); err != nil {
		return nil, err
	}
	return v, nil
}
