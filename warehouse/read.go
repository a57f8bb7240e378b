package warehouse

import (
	"context"
	"fmt"

	"github.com/binlake/binlake/storage"
)

// ReadManifest reads the manifest of snapshot dt=day of table. A day
// without one is an error that matches storage.ErrNotFound.
func ReadManifest(ctx context.Context, st storage.Store, table string, day Date) (*Manifest, error) {
	key := SnapshotManifest(table, day)
	b, err := storage.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	m := new(Manifest)
	if err := Unmarshal(key, b, m); err != nil {
		return nil, err
	}
	return m, nil
}
