package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are what a token carries.
type Claims struct {
	Sub  string `json:"sub"`
	Role string `json:"role"`
	Exp  int64  `json:"exp"` // unix seconds
}

// Errors of Verify.
var (
	ErrMalformed = errors.New("malformed token")
	ErrSignature = errors.New("bad token signature")
	ErrExpired   = errors.New("token expired")
)

var b64 = base64.RawURLEncoding

// Sign returns "<payload>.<signature>", both base64url: a minimal HMAC-SHA256
// token built from the standard library only.
func Sign(secret []byte, c Claims) string {
	payload, _ := json.Marshal(c)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(mac(secret, p))
}

// Verify checks the signature and expiry and returns the claims.
func Verify(secret []byte, token string, now time.Time) (Claims, error) {
	var c Claims
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return c, ErrMalformed
	}
	want, err := b64.DecodeString(sig)
	if err != nil {
		return c, ErrMalformed
	}
	if !hmac.Equal(want, mac(secret, p)) {
		return c, ErrSignature
	}
	payload, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Sub == "" {
		return c, ErrMalformed
	}
	if now.Unix() >= c.Exp {
		return c, ErrExpired
	}
	return c, nil
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
