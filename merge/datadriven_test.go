package merge_test

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/config"
	"github.com/binlake/binlake/internal/duckdbtest"
	"github.com/binlake/binlake/merge"
	"github.com/binlake/binlake/merge/internal/fakeingest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/local"
	"github.com/binlake/binlake/warehouse"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/merge/*.txt")

// TestDataDriven runs the merge scenarios of testdata/merge/*.txt, in the
// style of pebble's datadriven tests: each file is a sequence of blocks
//
//	command arg=value …
//	input lines
//	----
//	expected output (no blank lines)
//
// separated by blank lines; lines starting with # are comments. Commands:
//
//	table name=orders key=id[,k2] [key-includes-source=false] [bootstrap=snapshot] [tombstone-days=N]
//	schema version=N               input: "name type" per line
//	commit partition=P hour=YYYY-MM-DD/HH [version=N] [late] [committed-at=RFC3339]
//	                               input: "op db.table @file:offset:row col=value …" per row
//	                               (op insert, update, delete, truncate; values are
//	                               NULL, 0xHEX, "quoted text" or bare text, coerced to the
//	                               column type)
//	merge date=D                   output: the day's rows, tombstones, truncates, stats
//	                               (or the error)
//	snapshot date=D                output: a published day's rows and tombstones
//
// Run with -rewrite to regenerate the outputs.
func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("../testdata/merge/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/merge/*.txt")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runDataDriven(t, f) })
	}
}

// ddBlock is one command block of a scenario.
type ddBlock struct {
	pre    []string // comment and blank lines before it
	cmd    string
	args   map[string]string
	input  []string
	expect []string
	line   int
}

func parseDataDriven(t *testing.T, path string) ([]*ddBlock, []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var blocks []*ddBlock
	var pre []string
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			i++
			continue
		}
		blk := &ddBlock{pre: pre, line: i + 1, args: map[string]string{}}
		pre = nil
		f := strings.Fields(l)
		blk.cmd = f[0]
		for _, a := range f[1:] {
			k, v, _ := strings.Cut(a, "=")
			blk.args[k] = v
		}
		i++
		for i < len(lines) && lines[i] != "----" {
			blk.input = append(blk.input, lines[i])
			i++
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: no ---- after the command", path, blk.line)
		}
		i++
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			blk.expect = append(blk.expect, lines[i])
			i++
		}
		blocks = append(blocks, blk)
	}
	return blocks, pre
}

// ddWorld is the warehouse a scenario builds.
type ddWorld struct {
	t       *testing.T
	dir     string
	st      *local.Store
	w       *fakeingest.Warehouse
	rule    config.Table
	tdays   int
	version int
	now     time.Time
}

func runDataDriven(t *testing.T, path string) {
	blocks, trailer := parseDataDriven(t, path)
	dir := t.TempDir()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	wd := &ddWorld{t: t, dir: dir, st: st, version: 1,
		rule: config.Table{Name: "orders", Key: []string{"id"}, KeyIncludesSource: true, Bootstrap: config.BootstrapEmpty}}
	wd.w = fakeingest.New(st, "orders", "binlog")
	wd.w.Now = func() time.Time { return wd.now }
	var out strings.Builder
	changed := false
	for _, blk := range blocks {
		got := wd.exec(blk)
		if strings.Join(got, "\n") != strings.Join(blk.expect, "\n") {
			changed = true
			if !*rewrite {
				t.Errorf("%s:%d: %s %v\n--- got\n%s\n--- want\n%s", path, blk.line, blk.cmd, blk.args,
					strings.Join(got, "\n"), strings.Join(blk.expect, "\n"))
			}
		}
		for _, l := range blk.pre {
			out.WriteString(l + "\n")
		}
		f := append([]string{blk.cmd}, argsInOrder(blk)...)
		out.WriteString(strings.Join(f, " ") + "\n")
		for _, l := range blk.input {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n")
		for _, l := range got {
			out.WriteString(l + "\n")
		}
	}
	for _, l := range trailer {
		out.WriteString(l + "\n")
	}
	if *rewrite && changed {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// argsInOrder returns the block's arguments in a fixed order.
func argsInOrder(blk *ddBlock) []string {
	var out []string
	for _, k := range blk.argOrder() {
		if v := blk.args[k]; v != "" {
			out = append(out, k+"="+v)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func (blk *ddBlock) argOrder() []string {
	keys := make([]string, 0, len(blk.args))
	for k := range blk.args {
		keys = append(keys, k)
	}
	order := []string{"name", "key", "key-includes-source", "bootstrap", "tombstone-days", "version", "partition", "hour", "late", "committed-at", "date"}
	rank := func(k string) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return len(order)
	}
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}

func (wd *ddWorld) exec(blk *ddBlock) []string {
	t := wd.t
	ctx := context.Background()
	fail := func(format string, args ...any) []string {
		t.Fatalf("line %d: "+format, append([]any{blk.line}, args...)...)
		return nil
	}
	switch blk.cmd {
	case "table":
		if v := blk.args["name"]; v != "" {
			wd.rule.Name = v
			wd.w.Table = v
		}
		if v := blk.args["key"]; v != "" {
			wd.rule.Key = strings.Split(v, ",")
		}
		if v := blk.args["key-includes-source"]; v != "" {
			wd.rule.KeyIncludesSource = v == "true"
		}
		if v := blk.args["bootstrap"]; v != "" {
			wd.rule.Bootstrap = config.Bootstrap(v)
		}
		if v := blk.args["tombstone-days"]; v != "" {
			wd.tdays, _ = strconv.Atoi(v)
		}
		return nil
	case "schema":
		v, _ := strconv.Atoi(blk.args["version"])
		var nt []string
		for _, l := range blk.input {
			name, typ, _ := strings.Cut(strings.TrimSpace(l), " ")
			nt = append(nt, name, strings.TrimSpace(typ))
		}
		if err := wd.w.Schema(ctx, v, nt...); err != nil {
			return fail("%v", err)
		}
		wd.version = v
		return nil
	case "commit":
		p, _ := strconv.Atoi(blk.args["partition"])
		h, err := warehouse.ParseHourPath("dt=" + strings.Replace(blk.args["hour"], "/", "/hr=", 1))
		if err != nil {
			return fail("%v", err)
		}
		version := wd.version
		if v := blk.args["version"]; v != "" {
			version, _ = strconv.Atoi(v)
		}
		wd.now = time.Date(h.Date.Year, h.Date.Month, h.Date.Day, h.Hour, 30, 0, 0, time.UTC)
		if v := blk.args["committed-at"]; v != "" {
			if wd.now, err = time.Parse(time.RFC3339, v); err != nil {
				return fail("%v", err)
			}
		}
		_, late := blk.args["late"]
		cols := wd.columns(version)
		f := fakeingest.File{Hour: h, Version: version}
		for _, l := range blk.input {
			r, err := parseRow(l, cols)
			if err != nil {
				return fail("%q: %v", l, err)
			}
			r.Event = time.Date(h.Date.Year, h.Date.Month, h.Date.Day, h.Hour, 0, 0, 0, time.UTC)
			r.Late = late
			f.Rows = append(f.Rows, r)
		}
		if _, err := wd.w.Commit(ctx, int32(p), f); err != nil {
			return fail("%v", err)
		}
		return nil
	case "merge":
		d, err := warehouse.ParseDate(blk.args["date"])
		if err != nil {
			return fail("%v", err)
		}
		o := merge.DefaultOptions()
		o.Store, o.Table, o.Date = wd.st, wd.rule, d
		o.FileSize, o.RowGroupRows = 1, 3 // many small files and row groups
		if wd.tdays > 0 {
			o.TombstoneDays = wd.tdays
		}
		s, err := merge.Run(ctx, o)
		if err != nil {
			msg := err.Error()
			msg = strings.ReplaceAll(msg, wd.dir, "<wh>")
			return []string{"error: " + msg}
		}
		out := wd.show(d)
		out = append(out, fmt.Sprintf("stats: rows=%d inserted=%d updated=%d deleted=%d unchanged=%d stale=%d late=%d tombstones=%d truncated=%d",
			s.RowsOut, s.Inserted, s.Updated, s.Deleted, s.Unchanged, s.Stale, s.LateApplied, s.Tombstones, s.Truncated))
		return out
	case "snapshot":
		d, err := warehouse.ParseDate(blk.args["date"])
		if err != nil {
			return fail("%v", err)
		}
		return wd.show(d)
	}
	return fail("unknown command %q", blk.cmd)
}

// show renders a published day, and checks that DuckDB reads its data
// files with the same rows.
func (wd *ddWorld) show(d warehouse.Date) []string {
	s := readSnapshot(wd.t, wd.st, wd.rule.Name, d)
	out := []string{"rows:"}
	for _, r := range s.rows {
		out = append(out, "  "+r)
	}
	if len(s.tombstones) > 0 {
		out = append(out, "tombstones:")
		for _, r := range s.tombstones {
			out = append(out, "  "+r)
		}
	}
	if len(s.truncates) > 0 {
		out = append(out, "truncates:")
		for _, r := range s.truncates {
			out = append(out, "  "+r)
		}
	}
	if len(s.manifest.Files) > 0 {
		var paths []string
		for _, f := range s.manifest.Files {
			paths = append(paths, duckdbtest.QuoteString(filepath.Join(wd.dir, f.Key)))
		}
		res := duckdbtest.Query(wd.t, "SELECT count(*) AS n FROM read_parquet(["+strings.Join(paths, ",")+"], union_by_name=true)")
		if got := res.Text(0, "n"); got != strconv.Itoa(len(s.rows)) {
			wd.t.Errorf("DuckDB reads %s rows of dt=%s, parquet-go %d", got, d, len(s.rows))
		}
	}
	return out
}

func (wd *ddWorld) columns(version int) []string {
	key := warehouse.CatalogVersionKey(wd.rule.Name, version)
	b, err := os.ReadFile(filepath.Join(wd.dir, key))
	if err != nil {
		wd.t.Fatalf("schema version %d: %v", version, err)
	}
	var sv warehouse.SchemaVersion
	if err := warehouse.Unmarshal(key, b, &sv); err != nil {
		wd.t.Fatal(err)
	}
	var names []string
	for _, c := range sv.Columns {
		names = append(names, c.Name)
	}
	return names
}

// parseRow parses "op db.table @file:offset:row col=value …".
func parseRow(l string, cols []string) (fakeingest.Row, error) {
	var r fakeingest.Row
	f, err := splitRow(l)
	if err != nil {
		return r, err
	}
	if len(f) < 3 {
		return r, fmt.Errorf("want op db.table @pos")
	}
	r.Op = f[0]
	var ok bool
	if r.DB, r.Table, ok = strings.Cut(f[1], "."); !ok {
		return r, fmt.Errorf("want db.table, got %q", f[1])
	}
	p := strings.Split(strings.TrimPrefix(f[2], "@"), ":")
	if len(p) != 3 || !strings.HasPrefix(f[2], "@") {
		return r, fmt.Errorf("want @file:offset:row, got %q", f[2])
	}
	var nums [3]int64
	for i := range p {
		if nums[i], err = strconv.ParseInt(p[i], 10, 64); err != nil {
			return r, err
		}
	}
	r.Pos = warehouse.Pos{File: nums[0], Offset: nums[1], Row: nums[2]}
	r.Values = make([]schema.Value, len(cols))
	for _, kv := range f[3:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return r, fmt.Errorf("want col=value, got %q", kv)
		}
		i := -1
		for j, c := range cols {
			if c == k {
				i = j
			}
		}
		if i < 0 {
			return r, fmt.Errorf("no column %s in %v", k, cols)
		}
		switch {
		case v == "NULL":
		case strings.HasPrefix(v, `"`):
			u, err := strconv.Unquote(v)
			if err != nil {
				return r, err
			}
			r.Values[i] = schema.StringValue(u)
		case strings.HasPrefix(v, "0x"):
			b, err := hex.DecodeString(v[2:])
			if err != nil {
				return r, err
			}
			r.Values[i] = schema.BytesValue(b)
		default:
			r.Values[i] = schema.StringValue(v)
		}
	}
	return r, nil
}

// splitRow splits on spaces outside double quotes.
func splitRow(l string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '\\' && quoted && i+1 < len(l):
			cur.WriteByte(c)
			i++
			cur.WriteByte(l[i])
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}
