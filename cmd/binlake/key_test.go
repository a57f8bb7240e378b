package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/config"
)

func TestAESKeys(t *testing.T) {
	k16 := []byte("0123456789abcdef")
	k32 := bytes.Repeat([]byte{0xa5}, 32)
	h16, b32 := hex.EncodeToString(k16), base64.StdEncoding.EncodeToString(k32)
	for _, tc := range []struct {
		name, text string
		want       [][]byte
		err        string
	}{
		{name: "hex", text: h16 + "\n", want: [][]byte{k16}},
		{name: "base64", text: b32, want: [][]byte{k32}},
		{name: "raw", text: string(k16), want: [][]byte{k16}},
		{name: "raw with a space", text: "0123456789 bcdef", want: [][]byte{[]byte("0123456789 bcdef")}},
		{name: "two, one a line", text: h16 + "\n" + b32 + "\n", want: [][]byte{k16, k32}},
		{name: "three, commas and spaces", text: b32 + ", " + h16 + ",\t" + h16, want: [][]byte{k32, k16, k16}},
		{name: "a bad second key", text: h16 + "\nnot-a-key-at-all", err: "key 2 of the 2 in SRC is not 16, 24 or 32 bytes as hex or base64"},
		{name: "too short", text: "short", err: "the AES key in SRC is not 16, 24 or 32 bytes (as hex, base64 or raw)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(file, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			fromEnv := func(k string) (string, bool) { return tc.text, k == "BINLAKE_AES_KEY" }
			for src, e := range map[string]*config.Encryption{
				"environment variable BINLAKE_AES_KEY": {KeyEnv: "BINLAKE_AES_KEY"},
				"file " + file:                         {KeyFile: file},
			} {
				got, err := aesKeys(e, fromEnv)
				if tc.err != "" {
					want := strings.ReplaceAll(tc.err, "SRC", src)
					if err == nil || err.Error() != want {
						t.Errorf("%s: err %v, want %q", src, err, want)
					}
					if err != nil && (strings.Contains(err.Error(), h16) || strings.Contains(err.Error(), "not-a-key")) {
						t.Errorf("%s: error shows key material: %v", src, err)
					}
					continue
				}
				if err != nil || len(got) != len(tc.want) {
					t.Fatalf("%s: got %d keys, err %v; want %d", src, len(got), err, len(tc.want))
				}
				for i := range got {
					if !bytes.Equal(got[i], tc.want[i]) {
						t.Errorf("%s: key %d differs", src, i+1)
					}
				}
			}
		})
	}
	if _, err := aesKeys(&config.Encryption{KeyEnv: "UNSET"}, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "environment variable UNSET is not set") {
		t.Errorf("unset variable: err %v", err)
	}
	if keys, err := aesKeys(nil, nil); keys != nil || err != nil {
		t.Errorf("no encryption: %v, %v", keys, err)
	}
}
