package workload

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Formats lists the formats an Encoder writes, as binlake's kafka.format
// names them.
var Formats = []string{"canal", "debezium", "maxwell", "rowjson"}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record to produce.
type Message struct {
	Partition int32
	Key       []byte
	// Value is nil for a Debezium tombstone.
	Value []byte
	// Timestamp is the record's timestamp: the producer's clock, a moment
	// after the event (for rowjson, the event time itself).
	Timestamp time.Time
	Headers   []Header
}

// Encoder writes events as one format's Kafka messages.
type Encoder struct {
	format     string
	partitions int
	batch      int64
}

// NewEncoder returns an encoder of format for a topic of partitions
// partitions.
func NewEncoder(format string, partitions int) (*Encoder, error) {
	switch format {
	case "canal", "debezium", "maxwell", "rowjson":
	default:
		return nil, fmt.Errorf("workload: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	if partitions < 1 {
		return nil, fmt.Errorf("workload: %d partitions", partitions)
	}
	return &Encoder{format: format, partitions: partitions}, nil
}

// Encode returns ev's messages in the order to produce them.
func (e *Encoder) Encode(ev *Event) ([]Message, error) {
	switch e.format {
	case "canal":
		return e.canal(ev)
	case "debezium":
		return e.debezium(ev)
	case "maxwell":
		return e.maxwell(ev)
	}
	return e.rowjson(ev)
}

func (e *Encoder) partition(s string) int32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int32(h.Sum32() % uint32(e.partitions))
}

// produced is when the producer wrote the event: a little after it.
func produced(ev *Event) time.Time {
	return ev.Time.Add(time.Duration(50+ev.Seq%900) * time.Millisecond)
}

func binlogFile(n int) string { return fmt.Sprintf("mysql-bin.%06d", n) }

// canal writes one flatMessage per rows event.
func (e *Encoder) canal(ev *Event) ([]Message, error) {
	e.batch++
	cols := ev.Table.Columns
	var mysqlType, sqlType object
	for _, c := range cols {
		mysqlType = append(mysqlType, member{c.Name, c.MySQL})
		sqlType = append(sqlType, member{c.Name, canalSQLType(c)})
	}
	var data, old []object
	for _, rc := range ev.Rows {
		img := rc.After
		if ev.Op == Delete {
			img = rc.Before
		}
		data = append(data, canalRow(cols, img, nil))
		if ev.Op == Update {
			old = append(old, canalRow(cols, rc.Before, rc.After))
		}
	}
	msg := map[string]any{
		"data": data, "database": ev.DB, "es": ev.Time.UnixMilli(), "id": e.batch, "isDdl": false,
		"mysqlType": mysqlType, "old": old, "pkNames": []string{"id"}, "sql": "", "sqlType": sqlType,
		"table": ev.Tbl, "ts": produced(ev).UnixMilli(), "type": strings.ToUpper(ev.Op.String()),
	}
	if old == nil {
		msg["old"] = nil
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode canal event %d: %w", ev.Seq, err)
	}
	return []Message{{Partition: e.partition(ev.DB + "." + ev.Tbl), Value: b, Timestamp: produced(ev)}}, nil
}

// canalRow renders a row as Canal does: every value a string. With diff
// set, only the columns whose value differs from diff's (Canal's old).
func canalRow(cols []Column, r, diff Row) object {
	var m object
	for i, c := range cols {
		if diff != nil && r[i] == diff[i] {
			continue
		}
		if r[i] == nil {
			m = append(m, member{c.Name, nil})
			continue
		}
		s := text(c, r[i])
		if c.Kind == Enum {
			for j, l := range c.Labels {
				if l == s {
					s = strconv.Itoa(j + 1) // Canal sends an enum's 1-based index
				}
			}
		}
		m = append(m, member{c.Name, s})
	}
	return m
}

// canalSQLType is the java.sql.Types code Canal gives a column.
func canalSQLType(c Column) int {
	switch c.Kind {
	case Int:
		if strings.HasPrefix(c.MySQL, "bigint") || c.Unsigned {
			return -5
		}
		if strings.HasPrefix(c.MySQL, "tinyint") {
			return -6
		}
		return 4
	case Decimal:
		return 3
	case Enum:
		return 4
	case DateTime, Timestamp:
		return 93
	case Date:
		return 91
	}
	if c.MySQL == "text" {
		return 2005
	}
	return 12
}

// text renders a value the way MySQL prints it (Canal, Maxwell and rowjson
// strings).
func text(c Column, v any) string {
	switch c.Kind {
	case Int:
		return strconv.FormatInt(v.(int64), 10)
	case Decimal:
		return decimalText(v.(int64), c.Scale)
	case DateTime, Timestamp:
		layout := "2006-01-02 15:04:05"
		if c.Scale > 0 {
			layout += "." + strings.Repeat("0", c.Scale)
		}
		return v.(time.Time).UTC().Format(layout)
	case Date:
		return v.(time.Time).Format(time.DateOnly)
	}
	return v.(string)
}

func decimalText(unscaled int64, scale int) string {
	neg := unscaled < 0
	if neg {
		unscaled = -unscaled
	}
	s := strconv.FormatInt(unscaled, 10)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// debezium writes one envelope per row, with schemas, and a tombstone
// after each delete; a key change is a delete, a tombstone and a create.
func (e *Encoder) debezium(ev *Event) ([]Message, error) {
	var out []Message
	valueSchema := debeziumEnvelopeSchema(ev)
	keySchema := map[string]any{"type": "struct", "optional": false, "name": debeziumName(ev) + ".Key",
		"fields": []any{debeziumField(ev.Table.Columns[0])}}
	for i, rc := range ev.Rows {
		src := map[string]any{
			"version": "2.7.3.Final", "connector": "mysql", "name": "binlake", "ts_ms": ev.Time.UnixMilli(),
			"snapshot": "false", "db": ev.DB, "sequence": nil, "table": ev.Tbl, "server_id": 223344,
			"gtid": nil, "file": binlogFile(ev.File), "pos": ev.Offset, "row": i, "thread": 7, "query": nil,
		}
		key := func(r Row) ([]byte, error) {
			return json.Marshal(map[string]any{"schema": keySchema, "payload": map[string]any{"id": r[0]}})
		}
		env := func(op string, before, after Row) ([]byte, error) {
			p := map[string]any{"before": debeziumRow(ev.Table.Columns, before), "after": debeziumRow(ev.Table.Columns, after),
				"source": src, "op": op, "ts_ms": produced(ev).UnixMilli(), "transaction": nil}
			return json.Marshal(map[string]any{"schema": valueSchema, "payload": p})
		}
		msg := func(keyRow Row, value []byte, headers ...Header) error {
			k, err := key(keyRow)
			if err != nil {
				return err
			}
			out = append(out, Message{Partition: e.partition(string(k)), Key: k, Value: value, Timestamp: produced(ev), Headers: headers})
			return nil
		}
		var err error
		switch {
		case ev.Op == Insert:
			var v []byte
			if v, err = env("c", nil, rc.After); err == nil {
				err = msg(rc.After, v)
			}
		case ev.KeyChanged(i):
			oldKey, _ := key(rc.Before)
			newKey, _ := key(rc.After)
			var del, cre []byte
			if del, err = env("d", rc.Before, nil); err == nil {
				if cre, err = env("c", nil, rc.After); err == nil {
					err = msg(rc.Before, del, Header{"__debezium.newkey", newKey})
					if err == nil {
						err = msg(rc.Before, nil)
					}
					if err == nil {
						err = msg(rc.After, cre, Header{"__debezium.oldkey", oldKey})
					}
				}
			}
		case ev.Op == Update:
			var v []byte
			if v, err = env("u", rc.Before, rc.After); err == nil {
				err = msg(rc.After, v)
			}
		default:
			var v []byte
			if v, err = env("d", rc.Before, nil); err == nil {
				if err = msg(rc.Before, v); err == nil {
					err = msg(rc.Before, nil)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("encode debezium event %d: %w", ev.Seq, err)
		}
	}
	return out, nil
}

func debeziumName(ev *Event) string { return "binlake." + ev.DB + "." + ev.Tbl }

func debeziumEnvelopeSchema(ev *Event) map[string]any {
	var fields []any
	for _, c := range ev.Table.Columns {
		fields = append(fields, debeziumField(c))
	}
	row := func(name string) map[string]any {
		return map[string]any{"type": "struct", "fields": fields, "optional": true, "name": debeziumName(ev) + ".Value", "field": name}
	}
	f := func(typ, name string, optional bool) map[string]any {
		return map[string]any{"type": typ, "optional": optional, "field": name}
	}
	source := map[string]any{"type": "struct", "optional": false, "name": "io.debezium.connector.mysql.Source", "field": "source",
		"fields": []any{f("string", "version", false), f("string", "connector", false), f("string", "name", false),
			f("int64", "ts_ms", false), map[string]any{"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
				"parameters": map[string]any{"allowed": "true,last,false,incremental"}, "default": "false", "field": "snapshot"},
			f("string", "db", false), f("string", "sequence", true), f("string", "table", true), f("int64", "server_id", false),
			f("string", "gtid", true), f("string", "file", false), f("int64", "pos", false), f("int32", "row", false),
			f("int64", "thread", true), f("string", "query", true)}}
	return map[string]any{"type": "struct", "optional": false, "name": debeziumName(ev) + ".Envelope", "version": 1,
		"fields": []any{row("before"), row("after"), source, f("string", "op", false), f("int64", "ts_ms", true),
			map[string]any{"type": "struct", "optional": true, "name": "event.block", "version": 1, "field": "transaction",
				"fields": []any{f("string", "id", false), f("int64", "total_order", false), f("int64", "data_collection_order", false)}}}}
}

// debeziumField is a column's Kafka Connect schema as Debezium's MySQL
// connector writes it (decimal.handling.mode=precise,
// time.precision.mode=adaptive_time_microseconds).
func debeziumField(c Column) map[string]any {
	m := map[string]any{"optional": c.Nullable, "field": c.Name}
	switch c.Kind {
	case Int:
		switch {
		case strings.HasPrefix(c.MySQL, "tinyint"):
			m["type"] = "int16"
		case strings.HasPrefix(c.MySQL, "bigint"), c.Unsigned:
			m["type"] = "int64"
		default:
			m["type"] = "int32"
		}
	case Decimal:
		m["type"], m["name"], m["version"] = "bytes", "org.apache.kafka.connect.data.Decimal", 1
		m["parameters"] = map[string]any{"scale": strconv.Itoa(c.Scale), "connect.decimal.precision": strconv.Itoa(c.Precision)}
	case Enum:
		m["type"], m["name"], m["version"] = "string", "io.debezium.data.Enum", 1
		m["parameters"] = map[string]any{"allowed": strings.Join(c.Labels, ",")}
	case DateTime:
		m["type"], m["name"], m["version"] = "int64", "io.debezium.time.Timestamp", 1
		if c.Scale > 3 {
			m["name"] = "io.debezium.time.MicroTimestamp"
		}
	case Timestamp:
		m["type"], m["name"], m["version"] = "string", "io.debezium.time.ZonedTimestamp", 1
	case Date:
		m["type"], m["name"], m["version"] = "int32", "io.debezium.time.Date", 1
	default:
		m["type"] = "string"
	}
	return m
}

// debeziumRow renders a row image as Debezium's JsonConverter does; nil
// for no image.
func debeziumRow(cols []Column, r Row) any {
	if r == nil {
		return nil
	}
	var m object
	for i, c := range cols {
		v := r[i]
		if v != nil {
			switch c.Kind {
			case Decimal:
				v = base64.StdEncoding.EncodeToString(twosComplement(v.(int64)))
			case DateTime:
				if c.Scale > 3 {
					v = v.(time.Time).UnixMicro()
				} else {
					v = v.(time.Time).UnixMilli()
				}
			case Timestamp:
				layout := "2006-01-02T15:04:05"
				if c.Scale > 0 {
					layout += "." + strings.Repeat("0", c.Scale)
				}
				v = v.(time.Time).UTC().Format(layout) + "Z"
			case Date:
				v = v.(time.Time).Unix() / 86400
			}
		}
		m = append(m, member{c.Name, v})
	}
	return m
}

// twosComplement is the big-endian two's complement of n in as few bytes
// as hold it (Kafka Connect's Decimal).
func twosComplement(n int64) []byte {
	k := 1
	for ; k < 8; k++ {
		if lim := int64(1) << (8*k - 1); -lim <= n && n < lim {
			break
		}
	}
	out := make([]byte, k)
	u := uint64(n)
	for i := k - 1; i >= 0; i-- {
		out[i] = byte(u)
		u >>= 8
	}
	return out
}

// maxwell writes one message per row; the rows of an event share its
// position and its transaction, numbered by xoffset.
func (e *Encoder) maxwell(ev *Event) ([]Message, error) {
	var out []Message
	for i, rc := range ev.Rows {
		img := rc.After
		if ev.Op == Delete {
			img = rc.Before
		}
		msg := map[string]any{
			"database": ev.DB, "table": ev.Tbl, "type": ev.Op.String(), "ts": ev.Time.Unix(), "xid": ev.Xid,
			"xoffset": i, "position": fmt.Sprintf("%s:%d", binlogFile(ev.File), ev.Offset), "server_id": 223344,
			"thread_id": 7, "primary_key": []any{img[0]}, "primary_key_columns": []string{"id"},
			"data": maxwellRow(ev.Table.Columns, img, nil),
		}
		if i == len(ev.Rows)-1 {
			msg["commit"] = true
		}
		if ev.Op == Update {
			msg["old"] = maxwellRow(ev.Table.Columns, rc.Before, rc.After)
		}
		b, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("encode maxwell event %d: %w", ev.Seq, err)
		}
		k, _ := json.Marshal(map[string]any{"database": ev.DB, "table": ev.Tbl, "pk.id": img[0]})
		out = append(out, Message{Partition: e.partition(ev.DB), Key: k, Value: b, Timestamp: produced(ev)})
	}
	return out, nil
}

// maxwellRow renders a row as Maxwell does: numbers for integers and
// decimals, strings for the rest. With diff set, only the columns whose
// value differs from diff's.
func maxwellRow(cols []Column, r, diff Row) object {
	var m object
	for i, c := range cols {
		if diff != nil && r[i] == diff[i] {
			continue
		}
		m = append(m, member{c.Name, jsonValue(c, r[i])})
	}
	return m
}

func jsonValue(c Column, v any) any {
	switch {
	case v == nil:
		return nil
	case c.Kind == Int:
		return v
	case c.Kind == Decimal:
		return json.Number(decimalText(v.(int64), c.Scale))
	}
	return text(c, v)
}

// rowjson writes one flat row per row change; a key change is a delete of
// the old row and an upsert of the new one.
func (e *Encoder) rowjson(ev *Event) ([]Message, error) {
	var out []Message
	add := func(r Row, op int) error {
		var m object
		for i, c := range ev.Table.Columns {
			m = append(m, member{c.Name, jsonValue(c, r[i])})
		}
		m = append(m, member{"__op", op}, member{"table_name", ev.Tbl}, member{"database", ev.DB})
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode rowjson event %d: %w", ev.Seq, err)
		}
		out = append(out, Message{Partition: e.partition(ev.DB + "." + ev.Tbl), Value: b, Timestamp: ev.Time})
		return nil
	}
	for i, rc := range ev.Rows {
		var err error
		switch {
		case ev.Op == Delete:
			err = add(rc.Before, 1)
		case ev.KeyChanged(i):
			if err = add(rc.Before, 1); err == nil {
				err = add(rc.After, 0)
			}
		default:
			err = add(rc.After, 0)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// member is one member of an object.
type member struct {
	name  string
	value any
}

// object is a JSON object whose members keep their order, as the
// producers write a row's columns in table order (Canal's LinkedHashMap,
// Maxwell's and Debezium's rows); binlake takes a new table's column order
// from them.
type object []member

// MarshalJSON implements json.Marshaler.
func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(m.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", m.name, err)
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
