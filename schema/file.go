package schema

import (
	"fmt"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Field is one column of a Parquet file binlake writes.
type Field struct {
	Name string
	Node parquet.Node
}

// FileSchema builds a Parquet schema whose columns keep the given order
// (parquet.Group sorts them by name; binlake keeps bookkeeping columns
// where it puts them and the source table's column order).
func FileSchema(fields []Field) *parquet.Schema {
	g := make(orderedGroup, len(fields))
	for i, f := range fields {
		g[i] = &orderedField{Node: f.Node, name: f.Name}
	}
	return parquet.NewSchema("binlake", g)
}

// orderedGroup is a group node that keeps its fields in the given order.
type orderedGroup []parquet.Field

type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string { return f.name }

// Value is used only by parquet-go's reflection-based writers; binlake
// writes parquet.Row values, which never call it.
func (f *orderedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	return base.FieldByName(f.name)
}

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return fmt.Sprintf("group(%d fields)", len(g)) }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type {
	fields := make([]reflect.StructField, len(g))
	for i, f := range g {
		fields[i] = reflect.StructField{
			Name: fmt.Sprintf("F%d", i),
			Type: f.GoType(),
			Tag:  reflect.StructTag(`parquet:"` + f.Name() + `"`),
		}
	}
	return reflect.StructOf(fields)
}
