package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/binlake/binlake/config"
)

// aesKeys reads the AES keys for encrypted messages from the environment
// variable or file the configuration names: one key, or several while
// producers move from one key to the next (binlake tries each), separated
// by newlines, spaces or commas. A key is 16, 24 or 32 bytes, written as
// hex or base64, or as raw bytes when it is the only one. Keys never come
// from the command line, and no error message contains one.
func aesKeys(e *config.Encryption, lookup func(string) (string, bool)) ([][]byte, error) {
	if e == nil {
		return nil, nil
	}
	var text, from string
	switch {
	case e.KeyEnv != "":
		v, ok := lookup(e.KeyEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("kafka.encryption.key_env: environment variable %s is not set", e.KeyEnv)
		}
		text, from = v, "environment variable "+e.KeyEnv
	case e.KeyFile != "":
		b, err := os.ReadFile(e.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.encryption.key_file: %w", err)
		}
		text, from = string(b), "file "+e.KeyFile
	default:
		return nil, nil
	}
	if key, ok := parseKey(strings.TrimSpace(text)); ok {
		return [][]byte{key}, nil
	}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	keys := make([][]byte, 0, len(fields))
	bad := 0
	for i, f := range fields {
		key, ok := parseKey(f)
		if !ok && bad == 0 {
			bad = i + 1
		}
		keys = append(keys, key)
	}
	switch {
	case len(fields) > 1 && bad == 0:
		return keys, nil
	case validKeyLen(len(text)):
		return [][]byte{[]byte(text)}, nil
	case len(fields) > 1:
		return nil, fmt.Errorf("key %d of the %d in %s is not 16, 24 or 32 bytes as hex or base64", bad, len(fields), from)
	}
	return nil, fmt.Errorf("the AES key in %s is not 16, 24 or 32 bytes (as hex, base64 or raw)", from)
}

func parseKey(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil && validKeyLen(len(b)) {
		return b, true
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && validKeyLen(len(b)) {
		return b, true
	}
	return nil, false
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }
