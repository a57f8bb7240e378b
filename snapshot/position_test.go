package snapshot

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/warehouse"
)

func TestOffsetStamp(t *testing.T) {
	for _, c := range []struct {
		in   string
		want warehouse.Pos
		err  string
	}{
		{"", warehouse.Pos{}, ""},
		{"start", warehouse.Pos{}, ""},
		{"binlog/0:100", warehouse.Pos{Offset: 99, Row: maxRow}, ""},
		{"binlog/0:100, binlog/1:50,other/7:70", warehouse.Pos{Offset: 49, Row: maxRow}, ""},
		{"binlog/0:0,binlog/1:50", warehouse.Pos{}, ""},
		{"binlog:100", warehouse.Pos{}, "want start or TOPIC/PARTITION:OFFSET"},
		{"binlog/x:100", warehouse.Pos{}, "partition of"},
		{"binlog/0:-1", warehouse.Pos{}, "offset of"},
		{"mysql-bin.000042:1534", warehouse.Pos{}, "want start or TOPIC/PARTITION:OFFSET"},
	} {
		got, err := OffsetStamp(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	// The binlog stamp is strictly below the first event at the position.
	p, err := stampFor(BinlogPosition{File: "mysql-bin.000042", Pos: 1534})
	if err != nil || p.Compare(warehouse.Pos{File: 42, Offset: 1534}) >= 0 || p.Compare(warehouse.Pos{File: 42, Offset: 1533, Row: maxRow - 1}) <= 0 {
		t.Errorf("stamp %v %v", p, err)
	}
	if _, err := stampFor(BinlogPosition{File: "mysql-bin", Pos: 4}); err == nil {
		t.Error("a binlog file without a number was accepted")
	}
}

// With an offset-ordered format the rows carry the declared Kafka
// position, not the binary log's.
func TestSnapshotOffsetOrderedPosition(t *testing.T) {
	duckdbtest.Require(t)
	srv := fixture(t, 3)
	for _, c := range []struct{ position, manifest, pos string }{
		{"", "start", "0"},
		{"binlog/0:100,binlog/1:50", "binlog/0:100,binlog/1:50", posText(warehouse.Pos{Offset: 49, Row: maxRow})},
	} {
		dir := t.TempDir()
		cfg := testConfig(t, dir, srv, "")
		cfg2, err := parseRule(cfg, srv, "    match: '^shop_\\d+\\.orders_\\d+$'\n    key: [id]\nkafka: {brokers: ['127.0.0.1:1'], topics: [binlog], format: canal}\n")
		if err != nil {
			t.Fatal(err)
		}
		o := testOptions(t, cfg2)
		o.Position = c.position
		s := run(t, o)
		if s.Position != c.manifest {
			t.Errorf("position %q, want %q", s.Position, c.manifest)
		}
		res := duckdbtest.Query(t, "SELECT DISTINCT CAST(_pos AS VARCHAR) AS p FROM read_parquet("+duckdbtest.QuoteString(filepath.Join(dir, "snapshot", "orders", "dt=2024-03-01", "*.parquet"))+")")
		if res.Len() != 1 || strings.TrimLeft(res.Text(0, "p"), "0") != strings.TrimLeft(c.pos, "0") {
			t.Errorf("--position %q: _pos %s, want %s", c.position, res, c.pos)
		}
	}
}
