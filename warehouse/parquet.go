package warehouse

import (
	"fmt"

	"github.com/parquet-go/parquet-go"

	"github.com/binlake/binlake/schema"
)

// Field is one column of a binlake Parquet file.
type Field = schema.Field

// FileSchema builds the Parquet schema of fields, in their order.
func FileSchema(fields []Field) *parquet.Schema { return schema.FileSchema(fields) }

func dictString() parquet.Node {
	return parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
}

// BinlogMetaFields are the bookkeeping columns that start every binlog
// file, in order. They are never NULL.
func BinlogMetaFields() []Field {
	return []Field{
		{Name: ColOp, Node: dictString()},
		{Name: ColPos, Node: PosNode()},
		{Name: ColEventTime, Node: parquet.TimestampAdjusted(parquet.Microsecond, true)},
		{Name: ColSourceDB, Node: dictString()},
		{Name: ColSourceTable, Node: dictString()},
		{Name: ColKafkaTopic, Node: dictString()},
		{Name: ColKafkaPartition, Node: parquet.Int(32)},
		{Name: ColKafkaOffset, Node: parquet.Int(64)},
		{Name: ColLate, Node: parquet.Leaf(parquet.BooleanType)},
	}
}

// PosNode is the Parquet node of _pos: DECIMAL(38,0) in 16 bytes.
func PosNode() parquet.Node {
	return parquet.Decimal(0, 38, parquet.FixedLenByteArrayType(16))
}

// CheckDataColumn reports whether name can be a data column: names
// starting with "_" are reserved for bookkeeping.
func CheckDataColumn(name string) error {
	if name == "" || name[0] == '_' {
		return fmt.Errorf("column name %q is reserved: names starting with _ are binlake's bookkeeping (rename it with a column rule)", name)
	}
	return nil
}
