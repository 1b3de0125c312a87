package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// encPrefix marks an encrypted value: "gohands:enc:v1:" + base64(nonce | ciphertext+tag), AES-256-GCM.
// The version lets a later format coexist with this one.
const encPrefix = "gohands:enc:v1:"

// keySize is the length of the secret key file: an AES-256 key.
const keySize = 32

// Additional authenticated data binds a ciphertext to the file kind it was written for, so an
// encrypted settings value pasted into the secrets file (or the reverse) fails to decrypt.
var (
	aadSettings = []byte("gohands settings.json")
	aadSecrets  = []byte("gohands secrets.json")
)

// errDecrypt is what every decryption failure becomes. It deliberately carries no detail from the
// ciphertext or plaintext; callers add the file and field name.
var errDecrypt = errors.New("cannot decrypt (wrong or replaced secret key?)")

// sealer encrypts and decrypts values with the store's key.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", keySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns encPrefix + base64(nonce | ciphertext) for plaintext.
func (s *sealer) seal(plaintext, aad []byte) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		// crypto/rand.Read never fails on supported platforms (it panics itself if it would).
		panic("storage: crypto/rand: " + err.Error())
	}
	out := s.aead.Seal(nonce, nonce, plaintext, aad)
	return encPrefix + base64.StdEncoding.EncodeToString(out)
}

// open reverses seal. A value without encPrefix is returned unchanged with encrypted=false: that is
// clear text written by OpenHands, accepted on read and encrypted on the next write.
func (s *sealer) open(value string, aad []byte) (plaintext []byte, encrypted bool, err error) {
	rest, ok := strings.CutPrefix(value, encPrefix)
	if !ok {
		return []byte(value), false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, true, errors.New("malformed encrypted value")
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		return nil, true, errDecrypt
	}
	return pt, true, nil
}

func isEncrypted(value string) bool { return strings.HasPrefix(value, encPrefix) }
