package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// keyPaths lists every key of the configuration file as docs/
// configuration.md spells it: kafka.tls.ca_file, sources.<name>.dsn,
// tables[].columns.rename.
func keyPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			out = append(out, keyPaths(ft, path+".")...)
		case ft.Kind() == reflect.Slice && elem(ft).Kind() == reflect.Struct:
			out = append(out, keyPaths(elem(ft), path+"[].")...)
		case ft.Kind() == reflect.Map && elem(ft).Kind() == reflect.Struct:
			out = append(out, keyPaths(elem(ft), path+".<name>.")...)
		default:
			out = append(out, path)
		}
	}
	return out
}

func elem(t reflect.Type) reflect.Type {
	t = t.Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// TestEveryKeyIsDocumented: the configuration reference has a row for
// every key the loader knows, and no row for a key it does not.
func TestEveryKeyIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	keys := keyPaths(reflect.TypeFor[rawConfig](), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("docs/configuration.md has no row | `%s` |", k)
		}
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(doc, -1)
	for _, m := range rows {
		if !slices.Contains(keys, m[1]) {
			t.Errorf("docs/configuration.md documents %s, which is not a configuration key", m[1])
		}
	}
}
