package snapshot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/binlake/binlake/storage"
	"github.com/binlake/binlake/warehouse"
)

// The staging area of a table's snapshot, where rows wait until they are
// published (engines skip "_" names, and nothing is under dt= yet):
//
//	snapshot/<table>/_bootstrap/state.json                   what is being taken, at which position
//	snapshot/<table>/_bootstrap/shard-SSSSSS/chunk-CCCCCC.parquet  rows of chunk C of shard S
//	snapshot/<table>/_bootstrap/shard-SSSSSS/chunk-CCCCCC.json     written after the rows: the chunk is done
const stagingDir = "_bootstrap/"

func stagingPrefix(table string) string { return warehouse.SnapshotTableDir(table) + stagingDir }

func stateKey(table string) string { return stagingPrefix(table) + "state.json" }

func shardPrefix(table string, i int) string {
	return fmt.Sprintf("%sshard-%06d/", stagingPrefix(table), i)
}

func chunkKey(table string, shard, chunk int, ext string) string {
	return fmt.Sprintf("%schunk-%06d.%s", shardPrefix(table, shard), chunk, ext)
}

// state is what a snapshot run fixed before its first chunk; a resumed run
// takes it over unchanged.
type state struct {
	FormatVersion int       `json:"format_version"`
	Table         string    `json:"table"`
	Date          string    `json:"date"`
	RunID         string    `json:"run_id"`
	Started       time.Time `json:"started"`
	// Positions are the sources' binary log positions read before the
	// first chunk (absent for a source without a binary log when the
	// format is offset-ordered).
	Positions map[string]BinlogPosition `json:"positions,omitempty"`
	// Stamps are the _pos of each source's rows.
	Stamps map[string]warehouse.Pos `json:"stamps"`
	// Position is Manifest.Position.
	Position      string   `json:"position"`
	SchemaVersion int      `json:"schema_version"`
	Key           []string `json:"key"`
	Shards        []shard  `json:"shards"`
	// PageBy are each shard's source key columns, in key order.
	PageBy [][]string `json:"page_by"`
}

// progress is a finished chunk.
type progress struct {
	FormatVersion int   `json:"format_version"`
	Rows          int64 `json:"rows"`
	Bytes         int64 `json:"bytes"`
	// Last is the key of the chunk's last row: the next chunk starts after
	// it.
	Last []keyValue `json:"last,omitempty"`
	// Done: the shard has no rows after this chunk.
	Done bool `json:"done"`
	// ZeroDates counts dates that are not calendar dates, by column.
	ZeroDates map[string]int64 `json:"zero_dates,omitempty"`
}

// readState reads the staging state, or nil when there is none.
func readState(ctx context.Context, st storage.Store, table string) (*state, error) {
	b, err := storage.ReadAll(ctx, st, stateKey(table))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stateKey(table), err)
	}
	s := new(state)
	if err := warehouse.Unmarshal(stateKey(table), b, s); err != nil {
		return nil, err
	}
	return s, nil
}

// readProgress returns a shard's finished chunks, in order: the chunks
// 0, 1, … whose records exist (a chunk after a gap was never finished).
func readProgress(ctx context.Context, st storage.Store, table string, i int) ([]progress, error) {
	var keys []string
	if err := st.List(ctx, shardPrefix(table, i), func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".json") {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list %s: %w", shardPrefix(table, i), err)
	}
	sort.Strings(keys)
	var out []progress
	for n, k := range keys {
		if k != chunkKey(table, i, n, "json") {
			break
		}
		b, err := storage.ReadAll(ctx, st, k)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		var p progress
		if err := warehouse.Unmarshal(k, b, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
		if p.Done {
			break
		}
	}
	return out, nil
}

// removeStaging removes the staging area, the state last.
func removeStaging(ctx context.Context, st storage.Store, table string) error {
	var keys []string
	if err := st.List(ctx, stagingPrefix(table), func(o storage.Object) error {
		if o.Key != stateKey(table) {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("list %s: %w", stagingPrefix(table), err)
	}
	for _, k := range append(keys, stateKey(table)) {
		if err := st.Delete(ctx, k); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("remove %s: %w", k, err)
		}
	}
	return nil
}
