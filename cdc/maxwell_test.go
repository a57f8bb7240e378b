package cdc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

func TestMaxwellChange(t *testing.T) {
	dec := newDecoder(t, Options{Format: "maxwell"})
	msg := `{"database":"shop","table":"orders","type":"update","ts":1714559400,"xid":9,"xoffset":3,"commit":true,` +
		`"position":"mysql-bin.000042:1534","primary_key_columns":["id"],` +
		`"data":{"id":1,"qty":3,"name":"b"},"old":{"qty":2,"gone":null}}`
	c := decode(t, dec, record(msg))[0]
	if c.Op != Update || c.Database != "shop" || c.Table != "orders" {
		t.Errorf("got %s %s.%s", c.Op, c.Database, c.Table)
	}
	// ts is in seconds for row events.
	if want := time.Unix(1714559400, 0); !c.EventTime.Equal(want) {
		t.Errorf("EventTime = %s, want %s", c.EventTime, want)
	}
	if c.Pos != (Pos{File: 42, Offset: 1534, Row: 3}) {
		t.Errorf("Pos = %+v, want {42 1534 3}", c.Pos)
	}
	if strings.Join(c.Key, ",") != "id" {
		t.Errorf("Key = %v", c.Key)
	}
	var before []string
	for _, col := range c.Before {
		before = append(before, col.Name+"="+col.Value.String())
	}
	if got, want := strings.Join(before, " "), `id=1 qty=2 name="b" gone=NULL`; got != want {
		t.Errorf("Before = %s, want %s", got, want)
	}

	// Without position: the Kafka offset, and xoffset as the row.
	msg = `{"database":"shop","table":"orders","type":"insert","ts":1714559400,"xoffset":4,"data":{"id":1}}`
	if c := decode(t, dec, record(msg))[0]; c.Pos != (Pos{File: 0, Offset: 7, Row: 4}) {
		t.Errorf("Pos = %+v, want {0 7 4}", c.Pos)
	}
	// DDL: ts in milliseconds.
	msg = `{"type":"table-drop","database":"shop","table":"orders","ts":1714559400123,"sql":"DROP TABLE orders","position":"master.000003:4579"}`
	c = decode(t, dec, record(msg))[0]
	if c.Op != DDL || c.SQL != "DROP TABLE orders" || !c.EventTime.Equal(time.UnixMilli(1714559400123)) || c.Pos != (Pos{File: 3, Offset: 4579, Row: 0}) {
		t.Errorf("DDL: got %+v", c)
	}
	for typ, want := range map[string]Skip{"bootstrap-start": NoRowEvent, "bootstrap-complete": NoRowEvent} {
		out, skip, err := dec.Decode(nil, record(`{"database":"d","table":"t","type":"`+typ+`","ts":1,"data":{}}`))
		if err != nil || skip != want || len(out) != 0 {
			t.Errorf("%s: got %d changes, skip %q, err %v", typ, len(out), skip, err)
		}
	}
	if c := decode(t, dec, record(`{"database":"d","table":"t","type":"bootstrap-insert","ts":1,"data":{"id":1}}`))[0]; c.Op != Insert {
		t.Errorf("bootstrap-insert: got %s, want insert", c.Op)
	}
	decodeErr(t, dec, record(`{"database":"d","table":"t","type":"insert","ts":1,"position":"mysql-bin:12","data":{}}`),
		`maxwell: position: want "file.NNNNNN:offset", got "\"mysql-bin:12\""`)
	decodeErr(t, dec, record(`{"database":"d","table":"t","type":"insert","ts":"now","data":{}}`), `maxwell: ts: want epoch seconds`)
	decodeErr(t, dec, record(`{"database":"d","table":"t","type":"insert","ts":1,"data":[]}`), `maxwell: data: want an object, got array`)
	decodeErr(t, dec, record(`{"isDdl":false,"data":[],"type":"INSERT"}`), `not a maxwell message: unknown type "INSERT" and no "data" object (looks like canal)`)
}

func TestMaxwellValues(t *testing.T) {
	dec := newDecoder(t, Options{Format: "maxwell"})
	msg := `{"database":"d","table":"t","type":"insert","ts":1,"data":{` +
		`"big":18446744073709551615,"neg":-9223372036854775808,"dec":12.30,"tiny":1e-7,"dbl":4500000001.512456777,` +
		`"set":["a","c"],"emptyset":[],"json":{"k": [1, {"x": "y z"}]},"jsonarr":[1,"a"],"jsonstrs":["a,b","c"],` +
		`"blob":"AAH/","dt":"2024-05-01 18:30:00.123456","zero":"0000-00-00","none":null,"esc":"a\"b\u00e9"}}`
	cols := decode(t, dec, record(msg))[0].Columns
	for name, want := range map[string]schema.Value{
		"big":      schema.UintValue(18446744073709551615),
		"neg":      schema.IntValue(-9223372036854775808),
		"dec":      schema.DecimalValue("12.30"),
		"tiny":     schema.DecimalValue("0.0000001"),
		"dbl":      schema.DecimalValue("4500000001.512456777"),
		"set":      schema.StringValue("a,c"),
		"emptyset": schema.StringValue(""),
		"json":     schema.StringValue(`{"k":[1,{"x":"y z"}]}`),
		"jsonarr":  schema.StringValue(`[1,"a"]`),
		"jsonstrs": schema.StringValue(`["a,b","c"]`),
		"blob":     schema.StringValue("AAH/"),
		"dt":       schema.StringValue("2024-05-01 18:30:00.123456"),
		"zero":     schema.StringValue("0000-00-00"),
		"none":     schema.NullValue(),
		"esc":      schema.StringValue(`a"bé`),
	} {
		c := column(t, cols, name)
		wantValue(t, c, want)
		if c.Type.Kind != schema.Unknown {
			t.Errorf("%s: Type %s, want unknown (Maxwell declares none)", name, c.Type)
		}
	}
}

// maxwellSeal encrypts like Maxwell's RowEncrypt: AES/CBC/PKCS5Padding.
func maxwellSeal(t *testing.T, key, iv, plain []byte) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return `{"iv":"` + base64.StdEncoding.EncodeToString(iv) + `","bytes":"` + base64.StdEncoding.EncodeToString(buf) + `"}`
}

func TestMaxwellEncryption(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtureRoot, "maxwell", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keyed := newDecoder(t, Options{Format: "maxwell", AESKeys: [][]byte{maxwellDocsKey}})
	for _, name := range []string{"08-insert-encrypt-data-docs.json", "09-encrypt-all-docs.json"} {
		rec := &Record{Offset: 1, Value: read(name)}
		c := decode(t, keyed, rec)[0]
		if c.Op != Insert || c.Database != "shard_1" || c.Table != "minimal" || column(t, c.Columns, "text_field").Value.S != "hello" {
			t.Errorf("%s: got %+v", name, c)
		}
		decodeErr(t, newDecoder(t, Options{Format: "maxwell"}), rec, "encrypted message but no key configured (kafka.encryption)")
		err := decodeError(t, newDecoder(t, Options{Format: "maxwell", AESKeys: [][]byte{[]byte("bbbbbbbbbbbbbbbb")}}), rec, "maxwell:")
		if strings.Contains(err.Error(), "bbbb") {
			t.Errorf("error shows key material: %v", err)
		}
	}
	// encrypt=data carries data and old together.
	key := []byte("0123456789abcdef0123456789abcdef")
	enc := maxwellSeal(t, key, []byte("iviviviviviviviv"), []byte(`{"data":{"id":1,"v":"b"},"old":{"v":"a"}}`))
	msg := `{"database":"d","table":"t","type":"update","ts":1,"encrypted":` + enc + `}`
	c := decode(t, newDecoder(t, Options{Format: "maxwell", AESKeys: [][]byte{key}}), record(msg))[0]
	if c.Op != Update || column(t, c.Columns, "v").Value.S != "b" || column(t, c.Before, "v").Value.S != "a" {
		t.Errorf("encrypt=data update: got %+v", c)
	}
	decodeErr(t, newDecoder(t, Options{Format: "maxwell", AESKeys: [][]byte{key}}),
		record(`{"database":"d","table":"t","type":"insert","ts":1,"encrypted":{"iv":"AAAA","bytes":"AAAA"}}`), "maxwell: encrypted.iv: want 16 bytes")
}

// With several keys, a Maxwell message is opened by the key whose padding
// is right and whose plaintext parses: CBC has no tag, so a wrong key
// leaves valid padding now and then, and must not win.
func TestMaxwellEncryptionKeyRotation(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	iv := []byte("iviviviviviviviv")
	plain := []byte(`{"database":"d","table":"t","type":"insert","ts":1,"data":{"id":7}}`)
	encAll := maxwellSeal(t, key, iv, plain)
	encData := maxwellSeal(t, key, iv, []byte(`{"data":{"id":7}}`))
	for _, m := range []struct{ msg, enc string }{
		{`{"encrypted":` + encAll + `}`, encAll},
		{`{"database":"d","table":"t","type":"insert","ts":1,"encrypted":` + encData + `}`, encData},
	} {
		// A wrong key under which this message's last block unpads
		// cleanly.
		var wrong []byte
		for i := 0; wrong == nil; i++ {
			if i > 100_000 {
				t.Fatal("no wrong key with valid padding found")
			}
			if k := fmt.Appendf(nil, "wrong-key-%06d", i); validPadding(t, k, m.enc) {
				wrong = k
			}
		}
		msg := m.msg
		for _, keys := range [][][]byte{{wrong, key}, {key, wrong}, {[]byte("bbbbbbbbbbbbbbbb"), wrong, key}} {
			c := decode(t, newDecoder(t, Options{Format: "maxwell", AESKeys: keys}), record(msg))[0]
			if c.Op != Insert || column(t, c.Columns, "id").Value.I != 7 {
				t.Errorf("keys %q: got %+v", keys, c)
			}
		}
		// Only the wrong key: its valid padding gives a plaintext that
		// does not parse, and that is the error.
		err := decodeError(t, newDecoder(t, Options{Format: "maxwell", AESKeys: [][]byte{[]byte("bbbbbbbbbbbbbbbb"), wrong}}), record(msg), "invalid JSON")
		if strings.Contains(err.Error(), string(wrong)) {
			t.Errorf("error shows key material: %v", err)
		}
	}
}

// validPadding reports whether the "encrypted" object enc decrypts with
// key to valid PKCS#5 padding.
func validPadding(t *testing.T, key []byte, enc string) bool {
	t.Helper()
	var e struct{ IV, Bytes []byte }
	if err := json.Unmarshal([]byte(enc), &e); err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	cipher.NewCBCDecrypter(block, e.IV).CryptBlocks(e.Bytes, e.Bytes)
	pad := int(e.Bytes[len(e.Bytes)-1])
	if pad == 0 || pad > aes.BlockSize {
		return false
	}
	return bytes.Count(e.Bytes[len(e.Bytes)-pad:], []byte{byte(pad)}) == pad
}

// TestMaxwellRepeatedMembers: of a member named twice, the first counts.
func TestMaxwellRepeatedMembers(t *testing.T) {
	dec := newDecoder(t, Options{Format: "maxwell"})
	c := decode(t, dec, record(`{"type":"update","type":"delete","database":"a","database":"b","table":"t","table":"u",`+
		`"ts":1714559400,"ts":1,"xoffset":1,"xoffset":2,"position":"mysql-bin.000042:1534","position":"mysql-bin.000001:4",`+
		`"primary_key_columns":["id"],"primary_key_columns":["x"],"data":{"id":1},"data":{"id":2},"old":{"id":3},"old":{"id":4}}`))[0]
	if c.Op != Update || c.Database != "a" || c.Table != "t" || c.EventTime.Unix() != 1714559400 || c.Pos != (Pos{File: 42, Offset: 1534, Row: 1}) ||
		len(c.Key) != 1 || c.Key[0] != "id" {
		t.Errorf("got %+v", c)
	}
	wantValue(t, column(t, c.Columns, "id"), schema.IntValue(1))
	wantValue(t, column(t, c.Before, "id"), schema.IntValue(3))
	c = decode(t, dec, record(`{"type":"table-create","database":"d","sql":"CREATE TABLE a (i int)","sql":"DROP TABLE b"}`))[0]
	if c.Op != DDL || c.SQL != "CREATE TABLE a (i int)" {
		t.Errorf("got %+v", c)
	}
}
