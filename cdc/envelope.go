package cdc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// nonceSize is the AES-GCM envelope's nonce length (FORMATS.md: 16 bytes,
// not GCM's usual 12).
const nonceSize = 16

// Seal encrypts plaintext with key (16, 24 or 32 bytes) into binlake's
// AES-GCM envelope, {"nonce": hex, "ciphertext": hex(ciphertext‖tag)},
// with a random 16-byte nonce. Decoders configured with the same key open
// it.
func Seal(key, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cdc: AES key must be 16, 24 or 32 bytes, not %d", len(key))
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, nonceSize)
	if err != nil {
		return nil, fmt.Errorf("cdc: %w", err)
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("cdc: nonce: %w", err)
	}
	sealed := gcm.Seal(nil, nonce, plaintext, nil)
	out := make([]byte, 0, 32+2*(nonceSize+len(sealed)))
	out = append(out, `{"nonce":"`...)
	out = hex.AppendEncode(out, nonce)
	out = append(out, `","ciphertext":"`...)
	out = hex.AppendEncode(out, sealed)
	out = append(out, `"}`...)
	return out, nil
}

// isEnvelope reports whether the parsed message is an AES-GCM envelope: an
// object with exactly the string members nonce and ciphertext.
func isEnvelope(d *jdoc) bool {
	root := &d.nodes[0]
	if root.kind != jObject || root.n != 2 {
		return false
	}
	return d.kind(d.get(0, "nonce")) == jString && d.kind(d.get(0, "ciphertext")) == jString
}

// openEnvelope decrypts the envelope in d.
func openEnvelope(gcm cipher.AEAD, d *jdoc) ([]byte, error) {
	nonceHex := d.str(d.get(0, "nonce"))
	nonce, err := hex.DecodeString(nonceHex)
	if err != nil || len(nonce) != nonceSize {
		return nil, fmt.Errorf("AES-GCM envelope: nonce: want %d bytes in hex, got %s", nonceSize, quoteValue(nonceHex))
	}
	ctHex := d.str(d.get(0, "ciphertext"))
	ct, err := hex.DecodeString(ctHex)
	if err != nil {
		return nil, fmt.Errorf("AES-GCM envelope: ciphertext: not hex: %v", err)
	}
	if len(ct) < gcm.Overhead() {
		return nil, fmt.Errorf("AES-GCM envelope: ciphertext: %d bytes, shorter than the %d-byte tag", len(ct), gcm.Overhead())
	}
	plain, err := gcm.Open(ct[:0], nonce, ct, nil)
	if err != nil {
		return nil, errors.New("AES-GCM envelope: cannot decrypt: wrong key or corrupted message")
	}
	return plain, nil
}

// maxwellDecrypt opens Maxwell's own encryption: AES/CBC/PKCS5Padding,
// with the base64 iv and bytes of an "encrypted" object.
func maxwellDecrypt(block cipher.Block, ivB64, dataB64 string) ([]byte, error) {
	iv, err := base64.StdEncoding.DecodeString(ivB64)
	if err != nil || len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("encrypted.iv: want %d bytes in base64, got %s", aes.BlockSize, quoteValue(ivB64))
	}
	data, err := base64.StdEncoding.DecodeString(dataB64)
	if err != nil {
		return nil, fmt.Errorf("encrypted.bytes: not base64: %v", err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("encrypted.bytes: %d bytes, not a positive multiple of %d", len(data), aes.BlockSize)
	}
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errors.New("encrypted.bytes: bad padding: wrong key or corrupted message")
	}
	for _, c := range data[len(data)-pad:] {
		if int(c) != pad {
			return nil, errors.New("encrypted.bytes: bad padding: wrong key or corrupted message")
		}
	}
	return data[:len(data)-pad], nil
}
