package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/binlake/binlake/config"
)

// aesKey reads the AES-GCM envelope key from the environment variable or
// file the configuration names. The key is 16, 24 or 32 bytes, written
// as hex, base64 or raw bytes. It never comes from the command line, and no
// error message contains it.
func aesKey(e *config.Encryption, lookup func(string) (string, bool)) ([]byte, error) {
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
		return key, nil
	}
	if key := []byte(text); validKeyLen(len(key)) {
		return key, nil
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
