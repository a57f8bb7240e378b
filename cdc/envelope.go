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
// not GCM's usual 12); tagSize is its tag's.
const (
	nonceSize = 16
	tagSize   = 16
)

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

// cipherKey is one configured AES key, ready for both encryptions.
type cipherKey struct {
	gcm   cipher.AEAD  // binlake's envelope
	block cipher.Block // Maxwell's AES-CBC
}

// tryKeys calls open with the configured keys, the one that opened the
// previous message first, until open succeeds, and remembers that key.
// It returns the error of the first key tried when none succeeds.
func (b *base) tryKeys(open func(k *cipherKey) error) error {
	var first error
	for i := range b.keys {
		n := (b.lastKey + i) % len(b.keys)
		err := open(&b.keys[n])
		if err == nil {
			b.lastKey = n
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// openEnvelope decrypts the envelope in d.
func (b *base) openEnvelope(d *jdoc) ([]byte, error) {
	nonceHex := d.str(d.get(0, "nonce"))
	nonce, err := hex.DecodeString(nonceHex)
	if err != nil || len(nonce) != nonceSize {
		return nil, fmt.Errorf("AES-GCM envelope: nonce: want %d bytes in hex, got %s", nonceSize, quoteValue(nonceHex))
	}
	ctHex := d.str(d.get(0, "ciphertext"))
	ct, err := hex.DecodeString(ctHex)
	if err != nil {
		return nil, fmt.Errorf("AES-GCM envelope: ciphertext: not hex: %w", err)
	}
	if len(ct) < tagSize {
		return nil, fmt.Errorf("AES-GCM envelope: ciphertext: %d bytes, shorter than the %d-byte tag", len(ct), tagSize)
	}
	// With one key the plaintext takes the ciphertext's place. With
	// several it needs room of its own: a failed Open clears what it
	// wrote, and the next key needs the ciphertext.
	dst := ct[:0]
	if len(b.keys) > 1 {
		dst = make([]byte, 0, len(ct)-tagSize)
	}
	var plain []byte
	err = b.tryKeys(func(k *cipherKey) error {
		plain, err = k.gcm.Open(dst, nonce, ct, nil)
		return err
	})
	if err != nil {
		return nil, errors.New("AES-GCM envelope: cannot decrypt: wrong key or corrupted message")
	}
	return plain, nil
}

// maxwellDecrypt opens Maxwell's own encryption: AES/CBC/PKCS5Padding,
// with the base64 iv and bytes of an "encrypted" object, and parses the
// plaintext with parse. A key is taken when the padding is right and the
// plaintext parses: with several keys, a wrong one can leave valid
// padding by chance (CBC has no tag), so the parse decides.
func (b *base) maxwellDecrypt(ivB64, dataB64 string, parse func(plain []byte) error) error {
	iv, err := base64.StdEncoding.DecodeString(ivB64)
	if err != nil || len(iv) != aes.BlockSize {
		return fmt.Errorf("encrypted.iv: want %d bytes in base64, got %s", aes.BlockSize, quoteValue(ivB64))
	}
	data, err := base64.StdEncoding.DecodeString(dataB64)
	if err != nil {
		return fmt.Errorf("encrypted.bytes: not base64: %w", err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return fmt.Errorf("encrypted.bytes: %d bytes, not a positive multiple of %d", len(data), aes.BlockSize)
	}
	var buf []byte
	if len(b.keys) > 1 {
		buf = make([]byte, len(data)) // data stays for the next key
	}
	return b.tryKeys(func(k *cipherKey) error {
		plain := data
		if buf != nil {
			plain = buf
		}
		cipher.NewCBCDecrypter(k.block, iv).CryptBlocks(plain, data)
		pad := int(plain[len(plain)-1])
		if pad == 0 || pad > aes.BlockSize {
			return errors.New("encrypted.bytes: bad padding: wrong key or corrupted message")
		}
		for _, c := range plain[len(plain)-pad:] {
			if int(c) != pad {
				return errors.New("encrypted.bytes: bad padding: wrong key or corrupted message")
			}
		}
		return parse(plain[:len(plain)-pad])
	})
}
