package cdc

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// looksLikeByGet is looksLike as it was, one jdoc.get per member asked
// about: the reference of the one walk.
func looksLikeByGet(d *jdoc, root int32) string {
	if d.kind(root) != jObject {
		return ""
	}
	has := func(k string) bool { return d.get(root, k) >= 0 }
	data := d.kind(d.get(root, "data"))
	op := d.kind(d.get(root, "__op"))
	switch {
	case isEnvelope(d):
		return "an AES-GCM envelope"
	case has("isDdl") && (data == jArray || data == jNull):
		return "canal"
	case has("payload") || has("op") && has("source"):
		return "debezium"
	case op == jString:
		return "debezium (unwrapped)"
	case op == jNumber:
		return "rowjson"
	case d.kind(d.get(root, "type")) == jString && (data == jObject || isMaxwellType(d.getStr(root, "type"))),
		d.nodes[root].n == 1 && has("encrypted"):
		return "maxwell"
	}
	return ""
}

// randomMembers returns a JSON object of up to max members named from
// names (repeats included), with values of every kind.
func randomMembers(r *rand.Rand, names []string, max int) string {
	values := []string{`null`, `true`, `false`, `0`, `1`, `"c"`, `"insert"`, `"x"`, `[]`, `["a"]`, `{}`, `{"a":1}`, `""`}
	parts := make([]string, r.IntN(max+1))
	for i := range parts {
		parts[i] = `"` + names[r.IntN(len(names))] + `":` + values[r.IntN(len(values))]
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestLooksLikeRandomized(t *testing.T) {
	names := []string{"isDdl", "data", "payload", "op", "source", "__op", "type", "encrypted", "nonce", "ciphertext", "a"}
	r := rand.New(rand.NewPCG(3, 4))
	var x debeziumDecoder // its payloadMembers finds them too
	d := &x.doc
	seen := map[string]int{}
	names = append(names, "status", "after", "ts_ms")
	for range 50000 {
		msg := randomMembers(r, names, 6)
		if err := d.parse(msg); err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		got, want := looksLike(d, 0), looksLikeByGet(d, 0)
		if got != want {
			t.Fatalf("%s: looksLike %q, want %q", msg, got, want)
		}
		pm := x.payloadMembers(0)
		if got := pm.format.looksLike(d, 0); got != want {
			t.Fatalf("%s: looksLike of payloadMembers %q, want %q", msg, got, want)
		}
		seen[got]++
	}
	if len(seen) < 7 {
		t.Errorf("the messages looked like only %v", seen)
	}
}

// duplicateColumnPairwise is duplicateColumn without distinctHashes: the
// reference.
func duplicateColumnPairwise(cols []Column) (string, bool) {
	for i := 1; i < len(cols); i++ {
		for j := 0; j < i; j++ {
			if cols[i].Name == cols[j].Name {
				return cols[i].Name, true
			}
		}
	}
	return "", false
}

func TestDuplicateColumnRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	passed := 0
	for range 200000 {
		cols := make([]Column, r.IntN(70))
		for i := range cols {
			switch r.IntN(20) {
			case 0:
				if i > 0 {
					cols[i].Name = cols[r.IntN(i)].Name // a repeat
					continue
				}
			case 1:
				cols[i].Name = "" // the empty name
				continue
			}
			b := make([]byte, 1+r.IntN(12))
			for j := range b {
				b[j] = "abcdex_1"[r.IntN(8)] // few letters: hashes collide
			}
			cols[i].Name = string(b)
		}
		if distinctHashes(cols) {
			passed++
		}
		name, dup := duplicateColumn(cols)
		wantName, wantDup := duplicateColumnPairwise(cols)
		if name != wantName || dup != wantDup {
			t.Fatalf("duplicateColumn = %q, %v; want %q, %v (%d columns)", name, dup, wantName, wantDup, len(cols))
		}
	}
	if passed < 1000 {
		t.Errorf("only %d of the rows had distinct hashes", passed)
	}
}
