package merge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/binlake/binlake/warehouse"
)

// Manifest kinds of snapshot days a merge does not make.
const (
	KindBootstrap = "bootstrap"
	KindImport    = "import"
)

// StagedFile is a file of rows for a bootstrap: the columns _op, _pos,
// _source_db, _source_table and then data columns by name, in any order,
// with the table's schema version in the key-value metadata
// (warehouse.MetaSchemaVersion), as binlog files have them. Rows and
// Bytes size the sort.
type StagedFile struct {
	Key   string
	Rows  int64
	Bytes int64
}

// BootstrapInput says what a bootstrap publishes.
type BootstrapInput struct {
	// Kind is KindBootstrap or KindImport.
	Kind string
	// Files hold the rows. Every row is an insert; of rows with the same
	// key the one with the greatest _pos (then the later file, then the
	// later row) is kept.
	Files []StagedFile
	// Position is the source position of the rows (Manifest.Position).
	Position string
	// GTIDs are the sources' GTID sets at Position (Manifest.GTIDs).
	GTIDs map[string]string
	// Stats are added to the manifest's stats.
	Stats map[string]int64
}

// Bootstrap publishes snapshot dt=o.Date of o.Table from staged rows over
// an empty base: the rows are sorted by key (warehouse.KeyOrder) with
// bounded memory (spilling as a merge does), written as key-sorted data
// files cut near o.FileSize with their row-group key ranges, then the
// manifest (of kind in.Kind, without Merged bounds, so the next day's
// merge applies every committed change: those the rows already contain
// are not newer than their _pos and are ignored), then _SUCCESS. It takes
// the day's lease like a merge, and a day that already has a snapshot is
// an error — except one this very run (o.RunID) published, which is
// completed (_SUCCESS) and returned, so a bootstrap killed after its
// manifest can be resumed.
//
// The schema is the newest version among the catalog's and the files';
// write the catalog version before calling Bootstrap.
func Bootstrap(ctx context.Context, o Options, in BootstrapInput) (*Summary, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if in.Kind != KindBootstrap && in.Kind != KindImport {
		return nil, fmt.Errorf("bootstrap: unknown kind %q", in.Kind)
	}
	if o.RunID == "" {
		return nil, fmt.Errorf("bootstrap: no run id")
	}
	start := time.Now()
	r := &run{o: o, dir: warehouse.SnapshotDir(o.Table.Name, o.Date), boot: &in}
	r.sum = &Summary{Table: o.Table.Name, Date: o.Date.String(), RunID: o.RunID}
	m, err := readManifest(ctx, o.Store, o.Table.Name, o.Date)
	if err == nil && m != nil {
		if m.RunID != o.RunID || m.Kind != in.Kind {
			return nil, fmt.Errorf("bootstrap %s dt=%s: the day already has a snapshot (%s, run %s); remove snapshot/%s/dt=%s to take it again",
				o.Table.Name, o.Date, m.Kind, m.RunID, o.Table.Name, o.Date)
		}
		if err := o.Store.Put(ctx, warehouse.SnapshotSuccess(o.Table.Name, o.Date), strings.NewReader("")); err != nil {
			return nil, fmt.Errorf("bootstrap %s dt=%s: write _SUCCESS: %w", o.Table.Name, o.Date, err)
		}
		r.sum.RowsOut = m.Rows
		r.sum.Generation = -1
		return r.sum, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s dt=%s: %w", o.Table.Name, o.Date, err)
	}
	err = r.do(ctx)
	r.sum.Seconds = seconds(time.Since(start))
	if err != nil {
		return r.sum, fmt.Errorf("bootstrap %s dt=%s: %w", o.Table.Name, o.Date, err)
	}
	return r.sum, nil
}

// bootPlan is the change plan of a bootstrap: its staged files, as
// changes of day o.Date.
func (r *run) bootPlan() *changePlan {
	plan := &changePlan{merged: map[string]int64{}}
	for _, f := range r.boot.Files {
		plan.files = append(plan.files, binlogFile{key: f.Key, hour: warehouse.Hour{Date: r.o.Date}, rows: f.Rows, bytes: f.Bytes})
	}
	return plan
}

// bootManifest turns the manifest a merge built into a bootstrap's.
func (r *run) bootManifest(m *warehouse.Manifest) {
	m.Kind = r.boot.Kind
	m.Position = r.boot.Position
	m.GTIDs = r.boot.GTIDs
	m.Merged = nil
	m.Base = ""
	for k, v := range r.boot.Stats {
		if m.Stats == nil {
			m.Stats = map[string]int64{}
		}
		m.Stats[k] = v
	}
}
