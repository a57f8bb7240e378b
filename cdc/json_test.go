package cdc

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestJSONParse(t *testing.T) {
	var d jdoc
	src := ` {"a": [1, -2.5e+3, "x\"y\u00e9\ud83d\ude00", true, false, null], "b": {}, "c": [], "a": 0} `
	if err := d.parse(src); err != nil {
		t.Fatal(err)
	}
	a := d.get(0, "a")
	if d.nodes[a].kind != jArray || d.nodes[a].n != 6 {
		t.Fatalf("a = %+v", d.nodes[a])
	}
	var got []string
	for c := d.nodes[a].first; c >= 0; c = d.nodes[c].next {
		switch d.nodes[c].kind {
		case jString:
			got = append(got, d.str(c))
		default:
			got = append(got, d.compact(c))
		}
	}
	if want := `1|-2.5e+3|x"yé😀|true|false|null`; strings.Join(got, "|") != want {
		t.Errorf("elements %q, want %q", strings.Join(got, "|"), want)
	}
	if d.compact(0) != `{"a":[1,-2.5e+3,"x\"y\u00e9\ud83d\ude00",true,false,null],"b":{},"c":[],"a":0}` {
		t.Errorf("compact = %s", d.compact(0))
	}
	if d.nodes[d.get(0, "b")].kind != jObject || d.get(0, "zz") != -1 {
		t.Error("get")
	}

	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`"\x"`, "\"a\tb\"", `"\u12"`, `tru`, `nul`, `{} {}`, `[1 2]`, `NaN`, `"abc`, strings.Repeat("[", 201) + strings.Repeat("]", 201)} {
		if err := d.parse(bad); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
}

// FuzzJSON checks the parser against encoding/json: the same documents are
// valid, strings unescape alike and compact text means the same.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud800"`, `"\ud83d\ude00x"`, `-0.0e-0`, `[]`, `{"a" : "b\\n" }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.Count(s, "[")+strings.Count(s, "{") >= maxDepth {
			return
		}
		var d jdoc
		err := d.parse(s)
		if valid := json.Valid([]byte(s)); valid != (err == nil) {
			t.Fatalf("parse(%q): err %v, json.Valid %v", s, err, valid)
		}
		// Shallow root members are checked just as strictly.
		shallow := jdoc{shallow: []string{"a", "b", "schema", ""}}
		if serr := shallow.parse(s); (serr == nil) != (err == nil) {
			t.Fatalf("parse(%q): err %v, with shallow members %v", s, err, serr)
		}
		if err != nil {
			return
		}
		if shallow.compact(0) != d.compact(0) {
			t.Fatalf("compact(%q) = %q, with shallow members %q", s, d.compact(0), shallow.compact(0))
		}
		// Again, the shallow members' values now known from the first
		// parse.
		if err := shallow.parse(s); err != nil || shallow.compact(0) != d.compact(0) {
			t.Fatalf("parse(%q) again with shallow members: %v, compact %q", s, err, shallow.compact(0))
		}
		// Numbers as their text: a float64 cannot hold every number.
		unmarshal := func(s string, v *any) error {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			return dec.Decode(v)
		}
		var want, got any
		if err := unmarshal(s, &want); err != nil {
			t.Fatal(err)
		}
		if err := unmarshal(d.compact(0), &got); err != nil {
			t.Fatalf("compact(%q) = %q: %v", s, d.compact(0), err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if string(wb) != string(gb) {
			t.Fatalf("compact(%q) = %q means %s, want %s", s, d.compact(0), gb, wb)
		}
		if d.nodes[0].kind == jString {
			if ws, _ := want.(string); d.str(0) != ws {
				t.Fatalf("str(%q) = %q, want %q", s, d.str(0), ws)
			}
		}
	})
}

// TestJSONShallowRepeat checks that a shallow member whose value starts
// with the text of the last one is taken as that value, and that whatever
// follows is still checked.
func TestJSONShallowRepeat(t *testing.T) {
	d := jdoc{shallow: []string{"s", "t"}}
	steps := []struct {
		src, s string // s: text of member s, "" if the parse must fail
	}{
		{`{"s":{"a":[1,2]},"x":1}`, `{"a":[1,2]}`},
		{`{"s":{"a":[1,2]},"x":2}`, `{"a":[1,2]}`},             // same value
		{`{"s":{"a":[1,2]}}`, `{"a":[1,2]}`},                   // same value, last member
		{`{"s":{"a":[1,2]}x}`, ""},                             // same value, then junk
		{`{"s":{"a":[1,2]},"x":}`, ""},                         // same value, then a bad member
		{`{"s":{"a":[1,2],"b":3},"x":1}`, `{"a":[1,2],"b":3}`}, // longer value
		{`{"s":{"a":[1,2],"b":3` + "\x01" + `},"x":1}`, ""},    // a known value's prefix, then bad
		{`{"s":[1],"t":[1]}`, `[1]`},                           // each member its own
		{`{"x":{"s":{"a":1` + `}}}`, "-"},                      // not at the root: not shallow
	}
	for _, st := range steps {
		err := d.parse(st.src)
		if st.s == "" {
			if err == nil {
				t.Errorf("parse(%q) succeeded", st.src)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parse(%q): %v", st.src, err)
		}
		if st.s == "-" {
			continue
		}
		if got := d.text(d.get(0, "s")); got != st.s {
			t.Errorf("parse(%q): s = %q, want %q", st.src, got, st.s)
		}
	}
}

func TestPlainDecimal(t *testing.T) {
	for in, want := range map[string]string{
		"12.30": "12.30", "-0.50": "-0.50", "0": "0", "-0": "-0", "+1": "1", ".5": "0.5", "1.": "1", "-.5": "-0.5",
		"1E+3": "1000", "1.5E-3": "0.0015", "-1.50e2": "-150", "1.55e1": "15.5", "10e-5": "0.00010", "0.5e-1": "0.05",
		"123e0": "123", "007": "007", "1e400": "1" + strings.Repeat("0", 400),
	} {
		if got, ok := plainDecimal(in); !ok || got != want {
			t.Errorf("plainDecimal(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1..2", "1e", "1e401", "e5", "1,5", "NaN", "0x10", "1 2", "--1", "1e+-2"} {
		if got, ok := plainDecimal(bad); ok {
			t.Errorf("plainDecimal(%q) = %q, want failure", bad, got)
		}
	}
}

func TestEpochAuto(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1714559400":    time.Unix(1714559400, 0),
		"1714559400000": time.UnixMilli(1714559400000),
		"99999999999":   time.Unix(99999999999, 0),
		"100000000000":  time.UnixMilli(100000000000),
		"0":             time.Unix(0, 0),
		"-5":            time.Unix(-5, 0),
	} {
		if got, ok := epochAuto(in); !ok || !got.Equal(want) {
			t.Errorf("epochAuto(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"1e300", "x", ""} {
		if _, ok := epochAuto(bad); ok {
			t.Errorf("epochAuto(%q) succeeded", bad)
		}
	}
}

func TestStringStops(t *testing.T) {
	// Every byte value in every position of a word, and the first stop
	// found with stops in the bytes above it too.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', '"', 0x01, 0xff} {
				b := []byte("abcdefgh")
				b[pos] = byte(c)
				for k := pos + 1; k < 8; k++ {
					b[k] = fill
				}
				stop := c < 0x20 || c == '"' || c == '\\'
				m := stringStops(load64(string(b), 0))
				first := bits.TrailingZeros64(m) >> 3
				switch {
				case stop && first != pos:
					t.Fatalf("%q: first stop at %d, want %d", b, first, pos)
				case !stop && fill == 'a' && m != 0:
					t.Fatalf("%q: stop at %d, want none", b, first)
				case !stop && fill != 'a' && fill != 0xff && first != pos+1 && pos < 7:
					t.Fatalf("%q: first stop at %d, want %d", b, first, pos+1)
				}
			}
		}
	}
}

// TestSkipDigits checks the word-at-a-time digit scan against a byte loop
// at every offset of texts holding every byte value.
func TestSkipDigits(t *testing.T) {
	naive := func(s string, i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	var texts []string
	for c := 0; c < 256; c++ {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17} {
			texts = append(texts, strings.Repeat("7", n)+string([]byte{byte(c)})+"123456789")
			texts = append(texts, strings.Repeat("0", n)+string([]byte{byte(c), 0xFF})+"12")
		}
	}
	texts = append(texts, "", "1234567890123456789", "/:09\xfa0")
	for _, s := range texts {
		for i := 0; i <= len(s); i++ {
			if got, want := skipDigits(s, i), naive(s, i); got != want {
				t.Fatalf("skipDigits(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	}
}

// TestJSONSpace checks that space is taken wherever JSON allows it (the
// parser skips it only where the byte it expects is not found) and
// refused inside literals, and that errors point past it.
func TestJSONSpace(t *testing.T) {
	const doc = `{"a":[1,{"b":null},"c",[]],"d":{},"e":true,"f":-1.5}`
	var want jdoc
	if err := want.parse(doc); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{" ", "\t\n\r "} {
		// Space before and after every structural character.
		var b strings.Builder
		inString := false
		for i := 0; i < len(doc); i++ {
			c := doc[i]
			if c == '"' {
				inString = !inString
			}
			if !inString && strings.IndexByte("{}[]:,", c) >= 0 {
				b.WriteString(sp)
				b.WriteByte(c)
				b.WriteString(sp)
				continue
			}
			b.WriteByte(c)
		}
		var d jdoc
		if err := d.parse(b.String()); err != nil {
			t.Fatalf("parse(%q): %v", b.String(), err)
		}
		if got := d.compact(0); got != doc {
			t.Fatalf("parse(%q) = %s, want %s", b.String(), got, doc)
		}
		if v := d.get(0, "a"); d.nodes[v].n != 4 {
			t.Fatalf("parse(%q): member a has %d elements", b.String(), d.nodes[v].n)
		}
	}
	for s, want := range map[string]string{
		`{"a":1, }`:   `expected a member name at byte 8`,
		`{"a" 1}`:     `expected ':' after a member name at byte 5`,
		`[1, ]`:       `invalid character "]" at byte 4`,
		`{"a": }`:     `invalid character "}" at byte 6`,
		`{"a":1 2}`:   `expected ',' or '}' at byte 7`,
		`[1 ,2 3]`:    `expected ',' or ']' at byte 6`,
		`{"a":  `:     `unexpected end of JSON input`,
		`{"a":t rue}`: `invalid character "t rue}" at byte 5`,
	} {
		var d jdoc
		if err := d.parse(s); err == nil || err.Error() != want {
			t.Errorf("parse(%q) = %v, want %s", s, err, want)
		}
	}
}

// TestJSONInvalidUTF8 puts bytes above 0x7f, valid runes and invalid
// sequences, into and between the strings of JSON text: parse must take
// the text exactly when it took it before it checked only strings, and
// name the first invalid byte; a Canal scan must not take invalid text.
func TestJSONInvalidUTF8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := `{"data":[{"id":"12","note":"a long string of plain text, then some","x":null}],"database":"shop","es":1,"isDdl":false,"mysqlType":{"id":"int","note":"varchar(9)"},"table":"t","type":"INSERT","n":[1,"é",{"k":"v"}]}`
	inserts := []string{"\xff", "\x80", "\xc3", "\xe2\x82", "é", "€", "\xf0\x9f\x8e\x89", "\xed\xa0\x80", "\xc3\xa9\xff"}
	var d jdoc
	for range 20000 {
		s := base
		for range 1 + rng.IntN(2) {
			at := rng.IntN(len(s) + 1)
			s = s[:at] + inserts[rng.IntN(len(inserts))] + s[at:]
		}
		err := d.parse(s)
		var want string
		if !utf8.ValidString(s) {
			want = fmt.Sprintf("invalid UTF-8 at byte %d", invalidUTF8At(s))
		} else if err != nil {
			continue // a valid text the parse refuses for its grammar, as before
		}
		if got := fmt.Sprint(err); err != nil && got != want || err == nil && want != "" {
			t.Fatalf("%q: parse error %v, want %q", s, err, want)
		}
		if want != "" {
			c := newDecoder(t, Options{Format: "canal"}).(*canalDecoder)
			m := noCanalMembers
			if c.scan([]byte(s), &m) {
				t.Fatalf("%q: scan took invalid UTF-8", s)
			}
		}
	}
}

func TestAfterItem(t *testing.T) {
	for _, tc := range []struct {
		s  string
		at int
		c  byte
	}{
		{`1,2`, 1, ','}, {`1 , 2`, 2, ','}, {"1\t\r\n]", 4, ']'}, {`1}`, 1, '}'}, {`1 `, 2, 0}, {`1`, 1, 0},
		{"1 \x00", 2, 0}, {"1 \x01,", 2, 1}, {`1 x`, 2, 'x'},
	} {
		if at, c := afterItem(tc.s, 1); at != tc.at || c != tc.c {
			t.Errorf("afterItem(%q, 1) = %d, %q; want %d, %q", tc.s, at, c, tc.at, tc.c)
		}
	}
}
