package ingest_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// canalColumns is the schema of the test orders table as Canal describes
// it.
var canalColumns = []struct{ name, mysqlType string }{
	{"id", "int(11)"},
	{"customer_id", "bigint(20) unsigned"},
	{"amount", "decimal(10,2)"},
	{"status", "enum('new','paid','shipped')"},
	{"note", "varchar(200)"},
	{"created_at", "datetime(6)"},
}

// orderRow is one row of the test orders table.
type orderRow struct {
	ID       int
	Customer uint64
	Cents    int64
	Status   int // 1-based enum index, as Canal sends it
	Note     *string
	Created  time.Time
}

func (o orderRow) canal() map[string]*string {
	s := func(v string) *string { return &v }
	m := map[string]*string{
		"id":          s(strconv.Itoa(o.ID)),
		"customer_id": s(strconv.FormatUint(o.Customer, 10)),
		"amount":      s(cents(o.Cents)),
		"status":      s(strconv.Itoa(o.Status)),
		"note":        o.Note,
		"created_at":  s(o.Created.UTC().Format("2006-01-02 15:04:05.000000")),
	}
	return m
}

// canalMessage builds a Canal flatMessage.
func canalMessage(db, table, typ string, es time.Time, rows []orderRow, old []map[string]*string) []byte {
	mysqlType := map[string]string{}
	sqlType := map[string]int{}
	for _, c := range canalColumns {
		mysqlType[c.name] = c.mysqlType
		sqlType[c.name] = 4
	}
	data := make([]map[string]*string, len(rows))
	for i, r := range rows {
		data[i] = r.canal()
	}
	msg := map[string]any{
		"id": 1, "database": db, "table": table, "pkNames": []string{"id"},
		"isDdl": false, "type": typ, "es": es.UnixMilli(), "ts": es.UnixMilli() + 5,
		"sql": "", "sqlType": sqlType, "mysqlType": mysqlType, "data": data, "old": old,
	}
	b, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return b
}

// cents formats an amount of cents as a decimal with two digits.
func cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}
