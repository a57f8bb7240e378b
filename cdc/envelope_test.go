package cdc

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestSealOpensInEveryFormat(t *testing.T) {
	for _, format := range Formats {
		for _, fx := range loadFixtures(t, format) {
			for i, v := range fx.values {
				plainDec := newDecoder(t, goldenOptions(t, format))
				o := goldenOptions(t, format)
				if format != "maxwell" { // Maxwell's fixtures need the docs' key for their own encryption
					o.AESKeys = [][]byte{testKey}
				}
				sealedDec := newDecoder(t, o)
				sealed, err := Seal(o.AESKeys[0], v)
				if err != nil {
					t.Fatal(err)
				}
				want, wantSkip, wantErr := plainDec.Decode(nil, goldenRecord(t, format, i, v))
				got, gotSkip, gotErr := sealedDec.Decode(nil, goldenRecord(t, format, i, sealed))
				var w, g strings.Builder
				renderResult(&w, want, wantSkip, wantErr)
				renderResult(&g, got, gotSkip, gotErr)
				if w.String() != g.String() {
					t.Errorf("%s/%s[%d]: sealed message decodes to\n%s\nplain one to\n%s", format, fx.name, i, g.String(), w.String())
				}
			}
		}
	}
}

func TestEnvelopeErrors(t *testing.T) {
	msg := []byte(`{"id":1,"__op":0,"table_name":"t"}`)
	sealed, err := Seal(testKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Nonce, Ciphertext string }
	if err := json.Unmarshal(sealed, &env); err != nil || len(env.Nonce) != 32 {
		t.Fatalf("Seal wrote %s: %v; want a 16-byte hex nonce", sealed, err)
	}

	noKey := newDecoder(t, Options{Format: "rowjson"})
	decodeErr(t, noKey, &Record{Value: sealed}, "rowjson: encrypted message but no key configured (kafka.encryption)")

	wrongKey := []byte("fedcba9876543210fedcba9876543210")
	err = decodeError(t, newDecoder(t, Options{Format: "rowjson", AESKeys: [][]byte{wrongKey}}), &Record{Value: sealed},
		"rowjson: AES-GCM envelope: cannot decrypt: wrong key or corrupted message")
	for _, secret := range []string{string(wrongKey), hex.EncodeToString(wrongKey), string(testKey), hex.EncodeToString(testKey)} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows key material: %v", err)
		}
	}

	dec := newDecoder(t, Options{Format: "rowjson", AESKeys: [][]byte{testKey}})
	tampered := []byte(strings.Replace(string(sealed), env.Ciphertext, flipLastHex(env.Ciphertext), 1))
	decodeErr(t, dec, &Record{Value: tampered}, "cannot decrypt")
	decodeErr(t, dec, &Record{Value: []byte(`{"nonce":"00ff","ciphertext":"` + env.Ciphertext + `"}`)}, `AES-GCM envelope: nonce: want 16 bytes in hex, got "00ff"`)
	decodeErr(t, dec, &Record{Value: []byte(`{"nonce":"` + env.Nonce + `","ciphertext":"zz"}`)}, "AES-GCM envelope: ciphertext: not hex")
	decodeErr(t, dec, &Record{Value: []byte(`{"nonce":"` + env.Nonce + `","ciphertext":"00"}`)}, "shorter than the 16-byte tag")
	inner, _ := Seal(testKey, []byte("[1]"))
	decodeErr(t, dec, &Record{Value: inner}, "rowjson: message is a JSON array, not an object")
	nested, _ := Seal(testKey, sealed)
	decodeErr(t, dec, &Record{Value: nested}, "rowjson: decrypted message is an envelope again")

	// An object with nonce, ciphertext and more is not an envelope.
	out := decode(t, dec, &Record{Value: []byte(`{"nonce":"a","ciphertext":"b","__op":0}`)})
	if len(out[0].Columns) != 2 {
		t.Errorf("got %v, want a row with columns nonce and ciphertext", out[0].Columns)
	}
}

func flipLastHex(s string) string {
	last := s[len(s)-1]
	if last == '0' {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}

func TestNewOptions(t *testing.T) {
	if _, err := New(Options{Format: "avro"}); err == nil || !strings.Contains(err.Error(), `unknown format "avro"`) {
		t.Errorf("unknown format: err %v", err)
	}
	_, err := New(Options{Format: "canal", AESKeys: [][]byte{[]byte("short-secret")}})
	if err == nil || err.Error() != "cdc: AES key 1 of 1 must be 16, 24 or 32 bytes, not 12" {
		t.Errorf("bad key: err %v", err)
	}
	if _, err := Seal([]byte("short-secret"), nil); err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("Seal with a bad key: err %v", err)
	}
	for _, n := range []int{16, 24, 32} {
		if _, err := New(Options{Format: "canal", AESKeys: [][]byte{make([]byte, n)}}); err != nil {
			t.Errorf("%d-byte key: %v", n, err)
		}
	}
}

// While producers move to a new key, messages arrive sealed with either:
// a decoder given both keys opens all of them, whatever their order, and
// one given neither fails each without showing a key.
func TestEnvelopeKeyRotation(t *testing.T) {
	oldKey, newKey := testKey, []byte("fedcba9876543210")
	var sealed [][]byte
	for i, key := range [][]byte{oldKey, oldKey, newKey, oldKey, newKey, newKey} {
		s, err := Seal(key, []byte(`{"id":`+strconv.Itoa(i)+`,"__op":0,"table_name":"t"}`))
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	for _, keys := range [][][]byte{{oldKey, newKey}, {newKey, oldKey}} {
		dec := newDecoder(t, Options{Format: "rowjson", AESKeys: keys})
		for i, s := range sealed {
			got := decode(t, dec, &Record{Offset: int64(i), Value: s})
			if id := column(t, got[0].Columns, "id").Value; id.I != int64(i) {
				t.Errorf("keys %q, message %d: id %v", keys, i, id)
			}
		}
	}
	other := []byte("another-key-0123")
	dec := newDecoder(t, Options{Format: "rowjson", AESKeys: [][]byte{other, []byte("yet-another-key!")}})
	for _, s := range sealed {
		err := decodeError(t, dec, &Record{Value: s}, "rowjson: AES-GCM envelope: cannot decrypt: wrong key or corrupted message")
		if strings.Contains(err.Error(), string(other)) || strings.Contains(err.Error(), hex.EncodeToString(other)) {
			t.Errorf("error shows key material: %v", err)
		}
	}
	if _, err := New(Options{Format: "rowjson", AESKeys: [][]byte{oldKey, []byte("short")}}); err == nil || err.Error() != "cdc: AES key 2 of 2 must be 16, 24 or 32 bytes, not 5" {
		t.Errorf("a bad second key: err %v", err)
	}
}
