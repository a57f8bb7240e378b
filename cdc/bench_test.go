package cdc

import (
	"encoding/json"
	"testing"
)

// benchCanal is a real-shaped Canal flatMessage of a one-row INSERT into a
// 10-column table, with mysqlType and sqlType as Canal writes them.
const benchCanal = `{"data":[{"id":"1001","user_id":"52","status":"2","amount":"129.90","qty":"3","sku":"SKU-000123",` +
	`"note":"gift wrap","created_at":"2024-05-01 18:30:00","updated_at":"2024-05-01 18:30:05.123","paid":"1"}],` +
	`"database":"shop_3","es":1714559400000,"id":42,"isDdl":false,"mysqlType":{"id":"bigint(20)","user_id":"int(11)",` +
	`"status":"enum('new','paid','shipped')","amount":"decimal(10,2)","qty":"smallint(6)","sku":"varchar(32)",` +
	`"note":"varchar(255)","created_at":"datetime","updated_at":"timestamp(3)","paid":"tinyint(1)"},"old":null,` +
	`"pkNames":["id"],"sql":"","sqlType":{"id":-5,"user_id":4,"status":4,"amount":3,"qty":5,"sku":12,"note":12,` +
	`"created_at":93,"updated_at":93,"paid":-6},"table":"orders_03","ts":1714559400123,"type":"INSERT"}`

// benchCanalSmall is the same row without sqlType and with shorter
// names: about 300 bytes, the low end of what Canal sends for 10 columns.
const benchCanalSmall = `{"data":[{"id":"1001","uid":"52","st":"2","amt":"129.90","qty":"3","sku":"SKU-1","note":"gift",` +
	`"ct":"2024-05-01 18:30:00","ut":"2024-05-01 18:30:05","paid":"1"}],"database":"shop","es":1714559400000,"isDdl":false,` +
	`"mysqlType":{"id":"bigint","uid":"int","st":"enum('a','b')","amt":"decimal(10,2)","qty":"int","sku":"varchar(32)",` +
	`"note":"text","ct":"datetime","ut":"timestamp","paid":"tinyint"},"old":null,"pkNames":["id"],"sql":"","table":"t","type":"INSERT"}`

// benchCanalNarrow and benchCanalNarrowUpdate are shaped as tools/bench
// writes its messages (~378 bytes): three columns, a row image of an
// INSERT and of an UPDATE with the changed columns' old values.
const (
	benchCanalNarrow = `{"data":[{"id":"183","amount":"129.90","updated_at":"2026-12-06 21:14:05"}],"database":"shop_03",` +
		`"es":1796591645000,"id":5032,"isDdl":false,"mysqlType":{"id":"int(11)","amount":"decimal(10,2)","updated_at":"timestamp"},` +
		`"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4,"amount":3,"updated_at":93},"table":"orders_11",` +
		`"ts":1796591645512,"type":"INSERT"}`
	benchCanalNarrowUpdate = `{"data":[{"id":"183","amount":"131.20","updated_at":"2026-12-06 21:14:07"}],"database":"shop_03",` +
		`"es":1796591647000,"id":5033,"isDdl":false,"mysqlType":{"id":"int(11)","amount":"decimal(10,2)","updated_at":"timestamp"},` +
		`"old":[{"amount":"129.90","updated_at":"2026-12-06 21:14:05"}],"pkNames":["id"],"sql":"","sqlType":{"id":4,"amount":3,"updated_at":93},` +
		`"table":"orders_11","ts":1796591647210,"type":"UPDATE"}`
)

func BenchmarkDecodeCanal(b *testing.B) {
	for _, bc := range []struct{ name, msg string }{
		{"full", benchCanal}, {"300B", benchCanalSmall},
		{"narrow", benchCanalNarrow}, {"narrowUpdate", benchCanalNarrowUpdate},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec := newDecoder(b, Options{Format: "canal", SourceLocation: mustLoc(b, "Asia/Shanghai")})
			rec := &Record{Topic: "binlog_shop", Value: []byte(bc.msg)}
			var dst []Change
			b.SetBytes(int64(len(bc.msg)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, _, err = dec.Decode(dst[:0], rec); err != nil || len(dst) != 1 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkJSONValidCanal is the yardstick: encoding/json merely checking
// the same message, building nothing.
func BenchmarkJSONValidCanal(b *testing.B) {
	v := []byte(benchCanal)
	b.SetBytes(int64(len(v)))
	for b.Loop() {
		if !json.Valid(v) {
			b.Fatal("invalid")
		}
	}
}
