package cdc

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The decoders read messages with this small JSON reader rather than
// encoding/json because they need three things encoding/json makes costly:
// object members in their original order (a row's column order), numbers as
// their exact text (no float64 round trip), and no allocation per value.
// A message is parsed into a flat slice of nodes that refer to one another
// by index; strings and numbers are substrings of the message, unescaped
// only when read. The slice is reused from message to message.

type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	switch k {
	case jNull:
		return "null"
	case jFalse, jTrue:
		return "boolean"
	case jNumber:
		return "number"
	case jString:
		return "string"
	case jArray:
		return "array"
	case jObject:
		return "object"
	}
	return "?"
}

// jnode is one JSON value of a parsed message. It holds no pointers, so
// that filling the node slice costs no GC write barriers.
type jnode struct {
	kind jkind
	esc  bool // string: its text holds escapes
	// keyOff and keyLen locate the member name in src when the parent is
	// an object; keyLen < 0 points at jdoc.escKeys[-keyLen-1] instead,
	// the unescaped name.
	keyOff, keyLen int32
	// off and end locate the node's text in src: a number's text, a
	// string's raw content between the quotes, the raw text of an array
	// or object.
	off, end int32
	first    int32 // first child, -1 if none
	next     int32 // next sibling, -1 if none
	n        int32 // number of children
}

// jdoc is a parsed JSON document. The root is node 0.
type jdoc struct {
	src     string
	nodes   []jnode
	escKeys []string // member names that held escapes, unescaped
	// shallow names root members whose values are checked but get no
	// child nodes: their node has only its kind and raw text. Decoders
	// list members they never read (or read only as text) to save work.
	shallow []string
	// lastShallow[k] is the text of the last object or array value of
	// member shallow[k], already checked: a message whose value starts with
	// the same text holds the same value (a JSON object or array ends
	// where its text does), which then needs no checking. Producers repeat
	// these members (Canal's mysqlType, Debezium's schema) message after
	// message.
	lastShallow []string
	// lastShallowAt[k] is the offset in src of the value whose text is
	// lastShallow[k], or -1 when this document holds none.
	lastShallowAt []int
}

// text returns the text of node i (see jnode.off).
func (d *jdoc) text(i int32) string { return d.src[d.nodes[i].off:d.nodes[i].end] }

// key returns the member name of node i.
func (d *jdoc) key(i int32) string {
	n := &d.nodes[i]
	if n.keyLen < 0 {
		return d.escKeys[-n.keyLen-1]
	}
	return d.src[n.keyOff : n.keyOff+n.keyLen]
}

func (d *jdoc) setText(i int32, start, end int) {
	d.nodes[i].off, d.nodes[i].end = int32(start), int32(end)
}

// maxDepth bounds nesting so that no input can exhaust the stack.
const maxDepth = 200

var errDepth = errors.New("nested deeper than 200 levels")

// parse parses src, which must hold exactly one JSON value. The nodes of
// the previous document are discarded.
func (d *jdoc) parse(src string) error {
	d.src = src
	d.nodes = d.nodes[:0]
	d.escKeys = d.escKeys[:0]
	for k := range d.lastShallowAt {
		d.lastShallowAt[k] = -1
	}
	if len(src) > math.MaxInt32 {
		return fmt.Errorf("message of %d bytes is too large", len(src))
	}
	p := skipSpace(src, 0)
	_, p, err := d.value(p, 0)
	if err == nil {
		if p = skipSpace(src, p); p != len(src) {
			err = fmt.Errorf("unexpected %s after the JSON value at byte %d", quoteValue(src[p:]), p)
		}
	}
	// A byte of invalid UTF-8 fails the parse: outside strings any byte
	// above 0x7f is out of place, and scanString checks the strings. The
	// error then names it, wherever the parse stopped.
	if err != nil && !utf8.ValidString(src) {
		return fmt.Errorf("invalid UTF-8 at byte %d", invalidUTF8At(src))
	}
	return err
}

func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(s)
}

// skipSpace returns the offset of the first byte at or after s[p] that is
// not JSON space, or len(s).
func skipSpace(s string, p int) int {
	at, _ := afterItem(s, p)
	return at
}

func (d *jdoc) add(kind jkind) int32 {
	n := len(d.nodes)
	if n == cap(d.nodes) {
		d.nodes = append(d.nodes, jnode{})
	}
	d.nodes = d.nodes[:n+1]
	d.nodes[n] = jnode{kind: kind, first: -1, next: -1}
	return int32(n)
}

// value parses the value at s[p:], after any space, and returns its node
// and the offset after it.
//
// Space is rare in messages: the parser looks for the byte it expects
// first, and skips space only where that is not found.
func (d *jdoc) value(p, depth int) (int32, int, error) {
	s := d.src
	if p >= len(s) {
		return 0, 0, errors.New("unexpected end of JSON input")
	}
	switch c := s[p]; {
	case c == '{':
		return d.object(p, depth+1)
	case c == '[':
		return d.array(p, depth+1)
	case c == '"':
		end, esc, err := scanString(s, p)
		if err != nil {
			return 0, 0, err
		}
		i := d.add(jString)
		d.setText(i, p+1, end-1)
		d.nodes[i].esc = esc
		return i, end, nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, err := scanNumber(s, p)
		if err != nil {
			return 0, 0, err
		}
		i := d.add(jNumber)
		d.setText(i, p, end)
		return i, end, nil
	case strings.HasPrefix(s[p:], "true"):
		return d.add(jTrue), p + 4, nil
	case strings.HasPrefix(s[p:], "false"):
		return d.add(jFalse), p + 5, nil
	case strings.HasPrefix(s[p:], "null"):
		return d.add(jNull), p + 4, nil
	case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		return d.value(skipSpace(s, p), depth)
	}
	return 0, 0, fmt.Errorf("invalid character %s at byte %d", quoteValue(s[p:min(p+8, len(s))]), p)
}

func (d *jdoc) object(start, depth int) (int32, int, error) {
	if depth > maxDepth {
		return 0, 0, errDepth
	}
	s := d.src
	obj := d.add(jObject)
	p := skipSpace(s, start+1)
	if p < len(s) && s[p] == '}' {
		d.setText(obj, start, p+1)
		return obj, p + 1, nil
	}
	prev := int32(-1)
	for {
		if p >= len(s) || s[p] != '"' {
			if p = skipSpace(s, p); p >= len(s) || s[p] != '"' {
				return 0, 0, fmt.Errorf("expected a member name at byte %d", p)
			}
		}
		p0 := p
		end, esc, err := scanString(s, p)
		if err != nil {
			return 0, 0, err
		}
		keyOff, keyLen := int32(p+1), int32(end-1-(p+1))
		if esc {
			d.escKeys = append(d.escKeys, unescape(s[p+1:end-1]))
			keyLen = -int32(len(d.escKeys))
		}
		if p = end; p >= len(s) || s[p] != ':' {
			if p = skipSpace(s, p); p >= len(s) || s[p] != ':' {
				return 0, 0, fmt.Errorf("expected ':' after a member name at byte %d", p)
			}
		}
		var child int32
		var q int
		k := -1
		if depth == 1 {
			k = d.shallowIndex(s[p0+1 : end-1])
		}
		if k >= 0 {
			child, q, err = d.shallowValue(skipSpace(s, p+1), depth, k)
		} else {
			child, q, err = d.value(p+1, depth)
		}
		if err != nil {
			return 0, 0, err
		}
		d.nodes[child].keyOff, d.nodes[child].keyLen = keyOff, keyLen
		d.link(obj, prev, child)
		prev = child
		at, c := afterItem(s, q)
		if c == ',' {
			p = at + 1
			continue
		}
		if c == '}' {
			d.setText(obj, start, at+1)
			return obj, at + 1, nil
		}
		return 0, 0, fmt.Errorf("expected ',' or '}' at byte %d", at)
	}
}

func (d *jdoc) array(start, depth int) (int32, int, error) {
	if depth > maxDepth {
		return 0, 0, errDepth
	}
	s := d.src
	arr := d.add(jArray)
	p := skipSpace(s, start+1)
	if p < len(s) && s[p] == ']' {
		d.setText(arr, start, p+1)
		return arr, p + 1, nil
	}
	prev := int32(-1)
	for {
		child, q, err := d.value(p, depth)
		if err != nil {
			return 0, 0, err
		}
		d.link(arr, prev, child)
		prev = child
		at, c := afterItem(s, q)
		if c == ',' {
			p = at + 1
			continue
		}
		if c == ']' {
			d.setText(arr, start, at+1)
			return arr, at + 1, nil
		}
		return 0, 0, fmt.Errorf("expected ',' or ']' at byte %d", at)
	}
}

// shallowIndex returns the index of rawKey in d.shallow, or -1.
func (d *jdoc) shallowIndex(rawKey string) int {
	for k, name := range d.shallow {
		if name == rawKey {
			return k
		}
	}
	return -1
}

// shallowValue checks the value at s[p:], that of member d.shallow[k],
// and gives it one node without children.
func (d *jdoc) shallowValue(p, depth, k int) (int32, int, error) {
	s := d.src
	if p >= len(s) || s[p] != '{' && s[p] != '[' {
		return d.value(p, depth)
	}
	end, err := d.shallowEnd(p, depth, k)
	if err != nil {
		return 0, 0, err
	}
	i := d.add(jObject)
	if s[p] == '[' {
		d.nodes[i].kind = jArray
	}
	d.setText(i, p, end)
	return i, end, nil
}

// shallowEnd checks the value at s[p:], that of member d.shallow[k] of an
// object at depth, and returns the offset after it.
func (d *jdoc) shallowEnd(p, depth, k int) (int, error) {
	s := d.src
	if p >= len(s) || s[p] != '{' && s[p] != '[' {
		return skipValue(s, p, depth+1)
	}
	if len(d.lastShallow) != len(d.shallow) {
		d.lastShallow = make([]string, len(d.shallow))
		d.lastShallowAt = make([]int, len(d.shallow))
	}
	if last := d.lastShallow[k]; last != "" && strings.HasPrefix(s[p:], last) {
		d.lastShallowAt[k] = p
		return p + len(last), nil
	}
	end, err := skipValue(s, p, depth+1)
	if err != nil {
		return 0, err
	}
	// A copy: s may alias a buffer the caller reuses.
	d.lastShallow[k], d.lastShallowAt[k] = strings.Clone(s[p:end]), p
	return end, nil
}

// shallowText returns lastShallow[k] if it is the text of node i, the
// value of member shallow[k]: the same string (the same bytes, at the
// same address) for every message that repeats the value, which a
// decoder can compare in one step.
func (d *jdoc) shallowText(k int, i int32) (string, bool) {
	// A node's offset is never negative: lastShallowAt[k] of -1 (none in
	// this document) matches no node.
	if k >= len(d.lastShallowAt) || d.lastShallowAt[k] != int(d.nodes[i].off) {
		return "", false
	}
	return d.lastShallow[k], true
}

// skipValue checks the JSON value at s[p:] and returns the offset after
// it, building nothing.
func skipValue(s string, p, depth int) (int, error) {
	if p >= len(s) {
		return 0, errors.New("unexpected end of JSON input")
	}
	switch c := s[p]; {
	case c == '"':
		end, _, err := scanString(s, p)
		return end, err
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(s, p)
	case strings.HasPrefix(s[p:], "true"), strings.HasPrefix(s[p:], "null"):
		return p + 4, nil
	case strings.HasPrefix(s[p:], "false"):
		return p + 5, nil
	case c != '{' && c != '[':
		return 0, fmt.Errorf("invalid character %s at byte %d", quoteValue(s[p:min(p+8, len(s))]), p)
	}
	if depth > maxDepth {
		return 0, errDepth
	}
	obj := s[p] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	p = skipSpace(s, p+1)
	if p < len(s) && s[p] == closer {
		return p + 1, nil
	}
	for {
		if obj {
			if p >= len(s) || s[p] != '"' {
				return 0, fmt.Errorf("expected a member name at byte %d", p)
			}
			end, _, err := scanString(s, p)
			if err != nil {
				return 0, err
			}
			if p = skipSpace(s, end); p >= len(s) || s[p] != ':' {
				return 0, fmt.Errorf("expected ':' after a member name at byte %d", p)
			}
			p = skipSpace(s, p+1)
		}
		end, err := skipValue(s, p, depth+1)
		if err != nil {
			return 0, err
		}
		at, c := afterItem(s, end)
		if c == ',' {
			p = skipSpace(s, at+1)
			continue
		}
		if c == closer {
			return at + 1, nil
		}
		return 0, fmt.Errorf("expected ',' or '%c' at byte %d", closer, at)
	}
}

// afterItem finds what follows an item of an array or object, which
// ends at s[p]: after any space, the ',' or the closing bracket (or
// anything else, an error at offset at; c is 0 at the end of s).
// skipSpace is afterItem without the byte: the loop that skips space is
// written once, here, where the byte is in hand when it stops (afterItem
// built on skipSpace would test the offset and load the byte again, which
// slows Canal's decoding by several percent).
func afterItem(s string, p int) (at int, c byte) {
	// One comparison for the usual byte, which is no space.
	for ; p < len(s); p++ {
		if c = s[p]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return p, c
		}
	}
	return p, 0
}

func (d *jdoc) link(parent, prev, child int32) {
	if prev < 0 {
		d.nodes[parent].first = child
	} else {
		d.nodes[prev].next = child
	}
	d.nodes[parent].n++
}

// stringStop marks the bytes that end the fast scan of a string: the
// closing quote, a backslash, control characters and bytes above 0x7f.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	return t
}()

// scanString scans the string starting with the quote at s[p] and returns
// the offset after its closing quote and whether it holds escapes. A
// string that is not valid UTF-8 is an error: a byte above 0x7f stops the
// fast scan too, and the text from there to the next byte that ends the
// scan is checked as UTF-8.
func scanString(s string, p int) (end int, esc bool, err error) {
	i := p + 1
	for {
		// Skip eight plain ASCII bytes at a time up to the word that holds
		// a stop byte, and within it straight to the first one; near the
		// end of s, single bytes.
		if i+8 <= len(s) {
			x := load64(s, i)
			m := stringStops(x) | x&msb
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(s) && !stringStop[s[i]] {
				i++
			}
			if i >= len(s) {
				return 0, false, errors.New("unexpected end of JSON input in a string")
			}
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				return 0, false, errors.New("unexpected end of JSON input in a string")
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(s) || !isHex4(s[i+2:i+6]) {
					return 0, false, fmt.Errorf("invalid \\u escape at byte %d", i)
				}
				i += 6
			default:
				return 0, false, fmt.Errorf("invalid escape %s at byte %d", quoteValue(s[i:i+2]), i)
			}
		case c >= utf8.RuneSelf:
			// Text that is not ASCII: the bytes up to the next quote,
			// backslash or control character are checked in one go.
			k := skipPlain(s, i)
			if !utf8.ValidString(s[i:k]) {
				return 0, false, fmt.Errorf("invalid UTF-8 in a string at byte %d", i+invalidUTF8At(s[i:k]))
			}
			i = k
		default:
			return 0, false, fmt.Errorf("control character 0x%02x in a string at byte %d", c, i)
		}
	}
}

// skipPlain returns the offset of the first quote, backslash or control
// character at or after s[i], or len(s).
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := stringStops(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(s) && (s[i] >= utf8.RuneSelf || !stringStop[s[i]]) {
		i++
	}
	return i
}

// load64 reads s[i:i+8] as a little-endian word (one load once compiled).
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stringStops marks the bytes of x that are a quote, a backslash or a
// control character with their top bit (the classic "has byte less than
// n" and "has zero byte" word tricks; bytes ≥ 0x80 never match). A byte
// above a marked one may be marked falsely (a borrow), but the lowest
// mark is always right, so the first stop byte is at
// bits.TrailingZeros64/8.
func stringStops(x uint64) uint64 {
	less := (x - lsb*0x20) &^ x
	q := x ^ (lsb * '"')
	quote := (q - lsb) &^ q
	b := x ^ (lsb * '\\')
	bslash := (b - lsb) &^ b
	return (less | quote | bslash) & msb
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// scanNumber scans the JSON number at s[p:] and returns the offset after
// it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(s string, p int) (int, error) {
	i := p
	if s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if j := skipDigits(s, i); j == i {
		return badNumber(s, p, i)
	} else {
		i = j
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := skipDigits(s, i)
		if j == i {
			return badNumber(s, p, i)
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return badNumber(s, p, i)
		}
		i = j
	}
	return i, nil
}

// skipDigits returns the offset after the digits at s[i:]. It checks
// eight bytes at a time: a byte is a digit when its high nibble is 3 and
// adding 6 leaves it so (a low nibble of at most 9). Adding 6 to a byte of
// 0xFA or more carries into the byte above, but that byte is above a
// non-digit already found.
func skipDigits(s string, i int) int {
	for i+8 <= len(s) {
		x := load64(s, i)
		nd := (x&(lsb*0xF0) ^ lsb*0x30) | ((x+lsb*6)&(lsb*0xF0) ^ lsb*0x30)
		nd |= nd >> 2
		nd |= nd >> 1
		if m := nd & (lsb * 0x10); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// badNumber is the error of the number at s[p:] that is invalid at s[i].
func badNumber(s string, p, i int) (int, error) {
	return 0, fmt.Errorf("invalid number %s at byte %d", quoteValue(s[p:min(i+1, len(s))]), p)
}

// unescape decodes the escapes of a string's raw content, which scanString
// has validated. Unpaired surrogates become U+FFFD, as in encoding/json.
func unescape(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = hex4(raw[i+3 : i+7])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, raw[i])
		}
	}
	return string(b)
}

func hex4(s string) rune {
	n, _ := strconv.ParseUint(s, 16, 32)
	return rune(n)
}

// str returns the value of string node i.
func (d *jdoc) str(i int32) string {
	if d.nodes[i].esc {
		return unescape(d.text(i))
	}
	return d.text(i)
}

// get returns the member key of object node obj, or -1.
func (d *jdoc) get(obj int32, key string) int32 {
	if obj < 0 || d.nodes[obj].kind != jObject {
		return -1
	}
	for c := d.nodes[obj].first; c >= 0; c = d.nodes[c].next {
		if d.key(c) == key {
			return c
		}
	}
	return -1
}

// setFirst sets *at to member m unless it holds a member already (is not
// -1): walking an object's members in order, the first of a name counts,
// as get finds it.
func setFirst(at *int32, m int32) {
	if *at < 0 {
		*at = m
	}
}

// kind returns the kind of node i, jNull for -1 (an absent member).
func (d *jdoc) kind(i int32) jkind {
	if i < 0 {
		return jNull
	}
	return d.nodes[i].kind
}

// stringOf returns the value of node i if it is a string, "" otherwise
// (also for -1, an absent member).
func (d *jdoc) stringOf(i int32) string {
	if d.kind(i) == jString {
		return d.str(i)
	}
	return ""
}

// getStr returns member key of obj if it is a string, "" otherwise.
func (d *jdoc) getStr(obj int32, key string) string { return d.stringOf(d.get(obj, key)) }

// compact returns the JSON text of node i without insignificant space.
func (d *jdoc) compact(i int32) string {
	raw := d.text(i)
	switch d.nodes[i].kind {
	case jString:
		return `"` + raw + `"`
	case jNull:
		return "null"
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	}
	if !strings.ContainsAny(raw, " \t\n\r") {
		return raw
	}
	b := make([]byte, 0, len(raw))
	inString := false
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		switch {
		case inString && c == '\\':
			b = append(b, c, raw[j+1])
			j++
			continue
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// quoteValue quotes s for an error message, cut to about 80 bytes.
func quoteValue(s string) string {
	const limit = 80
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
