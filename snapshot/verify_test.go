package snapshot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/storage/fault"
	"github.com/binlake/binlake/warehouse"
)

// Random changes behind binlake's back — updates, deletes and inserts,
// first and last keys, new keys below and above every other — are found
// by verify exactly: each changed key once, with its kind, and nothing
// else. With key_includes_source: false (ids unique across the shards,
// each table's rows spread over the files) the snapshot is still read
// once, not once per table.
func TestVerifyFindsExactlyTheChangedKeys(t *testing.T) {
	t.Run("key includes source", func(t *testing.T) { testVerifyFindsExactlyTheChangedKeys(t, false) })
	t.Run("unique ids", func(t *testing.T) { testVerifyFindsExactlyTheChangedKeys(t, true) })
}

func testVerifyFindsExactlyTheChangedKeys(t *testing.T, unique bool) {
	const rowsPer = 30
	srv := fixture(t, rowsPer)
	dir := t.TempDir()
	extra := ""
	// shift makes the ids of the k-th shard unique: small ones up by
	// 1000k, large ones down.
	shift := func(k int, id uint64) uint64 { return id }
	if unique {
		extra = "    key_includes_source: false\n"
		shift = func(k int, id uint64) uint64 {
			if id < 1000 {
				return id + 1000*uint64(k)
			}
			return id - 1000*uint64(k)
		}
		var stmts []string
		for d := range fixtureDBs {
			for tb := range fixtureTables {
				k := uint64(d*fixtureTables + tb)
				stmts = append(stmts, fmt.Sprintf("UPDATE shop_%d.orders_%d SET id = IF(id < 1000, id + %d, id - %d)", d, tb, 1000*k, 1000*k))
			}
		}
		srv.Exec(t, stmts...)
	}
	cfg := testConfig(t, dir, srv, extra)
	cfg.Merge.FileSize = 16 << 10 // several files
	o := testOptions(t, cfg)
	run(t, o)

	type key struct {
		shard string
		id    uint64
	}
	type state struct{ inSnap, exists, modified bool }
	keys := map[key]*state{}
	var shards []string
	for d := range fixtureDBs {
		for tb := range fixtureTables {
			s := fmt.Sprintf("shop_%d.orders_%d", d, tb)
			shards = append(shards, s)
			for i := range rowsPer {
				id := uint64(i + 1)
				if i%5 == 4 {
					id = 18446744073709551615 - uint64(i)
				}
				keys[key{s, shift(d*fixtureTables+tb, id)}] = &state{inSnap: true, exists: true}
			}
		}
	}
	ids := func(s string, exists bool) []uint64 {
		var out []uint64
		for k, st := range keys {
			if k.shard == s && st.exists == exists {
				out = append(out, k.id)
			}
		}
		slices.Sort(out)
		return out
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var stmts []string
	n := 0
	update := func(s string, id uint64) {
		n++
		stmts = append(stmts, fmt.Sprintf("UPDATE %s SET note = 'changed %d' WHERE id = %d", s, n, id))
		keys[key{s, id}].modified = true
	}
	del := func(s string, id uint64) {
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE id = %d", s, id))
		keys[key{s, id}].exists = false
	}
	insert := func(s string, id uint64) {
		n++
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s VALUES %s", s, fixtureRow(id, rng)),
			fmt.Sprintf("UPDATE %s SET note = 'inserted %d' WHERE id = %d", s, n, id))
		st := keys[key{s, id}]
		if st == nil {
			st = &state{}
			keys[key{s, id}] = st
		}
		st.exists, st.modified = true, true
	}
	// The edges: the first and the last key of a shard, keys below and
	// above all others, a whole shard emptied.
	first := ids(shards[1], true)
	del(shards[1], first[0])
	del(shards[1], first[len(first)-1])
	insert(shards[2], 0)
	insert(shards[3], 18446744073709551615)
	for _, id := range ids(shards[4], true) {
		del(shards[4], id)
	}
	for range 60 {
		s := shards[rng.IntN(len(shards))]
		switch live := ids(s, true); {
		case rng.IntN(3) == 0 || len(live) == 0:
			// Below 1000, above the ids of the fixture's first shard.
			id := uint64(rng.IntN(900) + 100)
			if st := keys[key{s, id}]; st != nil && st.exists {
				update(s, id)
			} else {
				insert(s, id)
			}
		case rng.IntN(2) == 0:
			update(s, live[rng.IntN(len(live))])
		default:
			del(s, live[rng.IntN(len(live))])
		}
	}
	// A table dropped: its rows are counted, not listed.
	dropped := shards[5]
	stmts = append(stmts, "DROP TABLE "+dropped)
	srv.Exec(t, append([]string{"SET SESSION sql_mode = ''"}, stmts...)...)

	var want []string
	differing := map[string]bool{} // shards with a key the source has that differs
	for k, st := range keys {
		if k.shard == dropped {
			continue
		}
		kind := ""
		switch {
		case st.exists && !st.inSnap:
			kind = "only_in_source"
		case !st.exists && st.inSnap:
			kind = "only_in_snapshot"
		case st.exists && st.modified:
			kind = "changed"
		}
		if kind != "" {
			want = append(want, fmt.Sprintf("%s %s [%d]", kind, k.shard, k.id))
		}
		if kind == "changed" || kind == "only_in_source" {
			differing[k.shard] = true
		}
	}
	slices.Sort(want)
	m, err := warehouse.ReadManifest(context.Background(), o.Store, "orders", o.Date)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) < 2 {
		t.Fatalf("the snapshot has %d files; the test wants rows spread over several", len(m.Files))
	}
	for _, chunk := range []int{3, 1000} {
		st := fault.New(o.Store)
		// With chunks of 3, keys and hashes are also written 256 bytes at
		// a time (a table's records in many appends).
		spill := 0
		if chunk == 3 {
			spill = 256
		}
		rep, err := Verify(context.Background(), VerifyOptions{Store: st, Config: cfg, Table: "orders", ChunkRows: chunk, MaxKeys: 10000, SpillBuffer: spill})
		if err != nil {
			t.Fatal(err)
		}
		// The manifest, and each data file once.
		if gets := st.Calls(fault.Get) + st.Calls(fault.GetRange); gets > len(m.Files)+1 {
			t.Errorf("chunks of %d: %d reads of the store for a snapshot of %d files", chunk, gets, len(m.Files))
		}
		got := differences(rep)
		if rep.Differences != int64(len(want)+rowsPer) || !slices.Equal(got, want) {
			t.Errorf("chunks of %d: verify found %d differences:\n%q\nwant %d and %d rows of %s:\n%q", chunk, rep.Differences, got, len(want), rowsPer, dropped, want)
		}
		note := fmt.Sprintf("%s has %d rows in the snapshot but is not on the sources", dropped, rowsPer)
		if !slices.Contains(rep.Notes, note) || len(rep.Shards) != len(shards)-1 {
			t.Errorf("chunks of %d: %d shards compared, notes %q; want %d and %q", chunk, len(rep.Shards), rep.Notes, len(shards)-1, note)
		}
		differed := 0
		for _, s := range rep.Shards {
			differed += s.ChunksDiffered
			if s.ChunksDiffered > s.Chunks {
				t.Errorf("chunks of %d: %s: %d of %d chunks differ", chunk, s.Shard, s.ChunksDiffered, s.Chunks)
			}
			// In one chunk per table, it differs when a key the source
			// has differs.
			if chunk == 1000 && (s.Chunks != 1 || (s.ChunksDiffered == 1) != differing[s.Shard]) {
				t.Errorf("%s: %d of %d chunks differ; differing keys: %v", s.Shard, s.ChunksDiffered, s.Chunks, differing[s.Shard])
			}
		}
		if differed == 0 {
			t.Errorf("chunks of %d: no chunk differs", chunk)
		}
	}
}

// differences renders the keys a report lists, sorted: "kind shard [key]".
func differences(rep *VerifyReport) []string {
	var out []string
	for _, d := range rep.Keys {
		out = append(out, fmt.Sprintf("%s %s %v", d.Kind, d.Shard, d.Key))
	}
	slices.Sort(out)
	return out
}

// TestVerifyJoinsOnlyKeysThatSortAlike: the streaming join is for keys
// whose columns are the same integers, of the same signedness, on both
// sides; any other key is compared by holding the snapshot side.
func TestVerifyJoinsOnlyKeysThatSortAlike(t *testing.T) {
	signed := schema.Type{Kind: schema.BigInt}
	unsigned := schema.Type{Kind: schema.BigInt, Unsigned: true}
	text := schema.Type{Kind: schema.VarChar}
	for _, c := range []struct {
		name      string
		snap, src schema.Type
		target    []int // source select index of each snapshot column
		want      bool
	}{
		{"same signed", signed, signed, []int{0, 1}, true},
		{"same unsigned", unsigned, unsigned, []int{0, 1}, true},
		{"int", schema.Type{Kind: schema.Int}, schema.Type{Kind: schema.Int}, []int{0, 1}, true},
		{"unsigned then signed", unsigned, signed, []int{0, 1}, false},
		{"signed then unsigned", signed, unsigned, []int{0, 1}, false},
		{"text", text, text, []int{0, 1}, false},
		{"other column", signed, signed, []int{1, 0}, false},
	} {
		v := &verifier{cols: []column{{Name: "id", Type: c.snap}, {Name: "n", Type: signed}}, keys: []int{0}}
		rd := &chunkReader{types: []schema.Type{c.src, signed}, keyIdx: []int{0}, target: c.target}
		if got := v.integerKey(rd); got != c.want {
			t.Errorf("%s: join %v, want %v", c.name, got, c.want)
		}
	}
}
