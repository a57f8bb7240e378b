package snapshot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Random changes behind binlake's back — updates, deletes and inserts,
// first and last keys, new keys below and above every other — are found
// by verify exactly: each changed key once, with its kind, and nothing
// else.
func TestVerifyFindsExactlyTheChangedKeys(t *testing.T) {
	const rowsPer = 30
	srv := fixture(t, rowsPer)
	dir := t.TempDir()
	cfg := testConfig(t, dir, srv, "")
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
				keys[key{s, id}] = &state{inSnap: true, exists: true}
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
			id := uint64(rng.IntN(1000) + 100)
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
	srv.Exec(t, append([]string{"SET SESSION sql_mode = ''"}, stmts...)...)

	var want []string
	for k, st := range keys {
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
	}
	slices.Sort(want)
	for _, chunk := range []int{3, 1000} {
		rep, err := Verify(context.Background(), VerifyOptions{Store: o.Store, Config: cfg, Table: "orders", ChunkRows: chunk, MaxKeys: 10000})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range rep.Keys {
			got = append(got, fmt.Sprintf("%s %s %v", d.Kind, d.Shard, d.Key))
		}
		slices.Sort(got)
		if rep.Differences != int64(len(want)) || !slices.Equal(got, want) {
			t.Errorf("chunks of %d: verify found %d differences:\n%q\nwant %d:\n%q", chunk, rep.Differences, got, len(want), want)
		}
		differed := 0
		for _, s := range rep.Shards {
			differed += s.ChunksDiffered
			if s.ChunksDiffered > s.Chunks {
				t.Errorf("chunks of %d: %s: %d of %d chunks differ", chunk, s.Shard, s.ChunksDiffered, s.Chunks)
			}
		}
		if differed == 0 {
			t.Errorf("chunks of %d: no chunk differs", chunk)
		}
	}
}
