package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// decoder fills the raw configuration structs from a yaml.Node tree. It does
// what yaml's own Node.Decode cannot: it reports unknown and duplicate keys,
// expands ${VAR} per scalar with the key path in the error, remembers the
// line of every key path for the validation that follows, and keeps going
// after an error so that all problems are reported at once.
//
// Fields are matched by the name in their yaml tag (options after the comma
// are ignored). A null value (an empty value, ~ or null) leaves the field as
// it is, so pointer fields tell "absent" from "set".
type decoder struct {
	file string
	env  func(string) (string, bool)
	errs []*Error

	lines  map[string]int    // key path → line of its key (or of the item, in a list)
	parent map[string]string // key path → key path of the enclosing value
	failed map[string]bool   // key paths whose value could not be decoded
}

func newDecoder(file string, env func(string) (string, bool)) *decoder {
	return &decoder{
		file:   file,
		env:    env,
		lines:  map[string]int{},
		parent: map[string]string{},
		failed: map[string]bool{},
	}
}

// errorf records a problem at an explicit line.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fail records a problem with the value at path, located by the line where
// path (or, when path is absent from the file, its nearest present parent)
// was written.
func (d *decoder) fail(path, format string, args ...any) {
	d.errorf(d.line(path), path, format, args...)
}

// missing records that a required key is absent, unless decoding its value
// already failed (which is reported on its own).
func (d *decoder) missing(path, format string, args ...any) {
	if d.failed[path] {
		return
	}
	d.fail(path, format, args...)
}

func (d *decoder) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if p, ok := d.parent[path]; ok {
			path = p
			continue
		}
		// Not in the file: a schema key under a present parent.
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 1
}

func (d *decoder) record(path, parent string, line int) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = line
	}
	d.parent[path] = parent
}

// decode fills v from n, which is the value at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if isNull(n) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := v
		if v.IsNil() {
			p = reflect.New(v.Type().Elem())
		}
		d.decode(n, p.Elem(), path)
		if !d.failed[path] {
			// A value of the wrong kind stays absent, so that validation
			// does not also complain about its zero value.
			v.Set(p)
		}
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.failed[path] = true
		d.errorf(n.Line, path, "expected a mapping of keys (%s), got %s", strings.Join(yamlKeys(v.Type()), ", "), describe(n))
		return
	}
	for _, p := range d.pairs(n, path) {
		name := p.key.Value
		child := joinPath(path, name)
		d.record(child, path, p.key.Line)
		i := fieldIndex(v.Type(), name)
		if i < 0 {
			msg, suggestion := unknownKey(name, yamlKeys(v.Type()))
			d.errorf(p.key.Line, child, "%s", msg)
			if suggestion != "" {
				// Already reported: don't also say the key is missing.
				d.failed[joinPath(path, suggestion)] = true
			}
			continue
		}
		f := v.Field(i)
		f.SetZero() // a key written here replaces one merged in with <<
		d.decode(p.val, f, child)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.failed[path] = true
		d.errorf(n.Line, path, "expected a mapping of name: value, got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, p := range d.pairs(n, path) {
		name := p.key.Value
		child := joinKey(path, name)
		d.record(child, path, p.key.Line)
		if name == "" {
			d.errorf(p.key.Line, child, "empty name")
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.val, e, child)
		v.SetMapIndex(reflect.ValueOf(name), e)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.failed[path] = true
		if n.Kind == yaml.ScalarNode {
			d.errorf(n.Line, path, "expected a list such as [a, b], got %s", describe(n))
		} else {
			d.errorf(n.Line, path, "expected a list (one \"- item\" per line, or [a, b]), got %s", describe(n))
		}
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := fmt.Sprintf("%s[%d]", path, i)
		d.record(child, path, resolveAlias(item).Line)
		d.decode(item, s.Index(i), child)
	}
	v.Set(s)
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.failed[path] = true
		d.errorf(n.Line, path, "expected %s, got %s", kindName(v.Kind()), describe(n))
		return
	}
	value, err := expand(n.Value, d.env)
	if err != nil {
		d.failed[path] = true
		d.errorf(n.Line, path, "%v", err)
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(value)
		return
	}
	m := *n
	m.Value = value
	if m.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		m.Tag = "" // resolve again: ${PORT} may have become 8080
	}
	if err := m.Decode(v.Addr().Interface()); err != nil {
		d.failed[path] = true
		d.errorf(n.Line, path, "expected %s, got %s", kindName(v.Kind()), quote(value))
	}
}

type pair struct{ key, val *yaml.Node }

// pairs returns the key/value pairs of a mapping, with the pairs merged in
// by YAML merge keys (<<: *anchor) first, so that keys written in the
// mapping itself override them. Keys must be scalars and unique.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var merged, own []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be names, got %s", describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.errorf(k.Line, joinKey(path, k.Value), "duplicate key (first set on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, pair{k, val})
	}
	var out []pair
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; ok {
			continue
		}
		seen[p.key.Value] = p.key.Line
		out = append(out, p)
	}
	return append(out, own...)
}

func (d *decoder) mergePairs(n *yaml.Node, path string) []pair {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range n.Content {
			// Earlier mappings in a merge list take precedence.
			out = append(out, d.mergePairs(item, path)...)
		}
		return out
	}
	d.errorf(n.Line, path, "<< must refer to a mapping (such as *defaults), got %s", describe(n))
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	}
	return "nothing"
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value"
	}
	return k.String()
}

// quote puts s in double quotes for a message. Unlike %q it leaves
// backslashes alone, so that regexes read as written; values with quotes
// or control characters still get Go quoting.
func quote(s string) string {
	for _, r := range s {
		if r == '"' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}

var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends a schema key to a key path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// joinKey appends a user-chosen name (a source, a topic, a column) to a key
// path, quoting it when it holds characters that would make the path
// ambiguous: sources.rds1, kafka.partitions["binlog.shop"].
func joinKey(path, name string) string {
	if !simpleKey.MatchString(name) {
		return fmt.Sprintf("%s[%q]", path, name)
	}
	return joinPath(path, name)
}

// yamlKeys lists the yaml names of a struct's fields in declaration order.
func yamlKeys(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, yamlName(t.Field(i)))
	}
	return keys
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		panic("config: field " + f.Name + " has no yaml name")
	}
	return name
}

// unknownKey builds the message for a key the schema does not have,
// suggesting the nearest known key when it looks like a typo.
func unknownKey(name string, known []string) (msg, suggestion string) {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(name), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	msg = "unknown key"
	if best != "" {
		msg += fmt.Sprintf("; did you mean %s?", best)
	}
	return msg + " (known: " + strings.Join(known, ", ") + ")", best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
