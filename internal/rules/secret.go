package rules

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Key parts that come from secrets (API access tokens, Bearer tokens, MFA
// tokens, passwords) never reach a store, a snapshot, a log line or an
// admin answer as they are: with Options.KeySecret they are replaced by
// "h:" and the first 16 bytes of their HMAC-SHA256, in hex. Counting stays
// exact: the same token always gives the same hash, and the hash is taken
// of the value as the key would have held it (trimmed, lower-cased), so
// the buckets are the ones the raw value would have made.

// secretWords mark header and param names that carry secrets.
var secretWords = []string{"token", "password", "secret", "authorization", "cookie", "api-key", "api_key", "apikey", "otp"}

// isSecretName reports whether a header or param of this name carries a
// secret.
func isSecretName(name string) bool {
	n := strings.ToLower(name)
	if n == "website_token" {
		return false // public: every page with the widget embeds it, and operators need to see which widget
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// isSecretValue reports whether the value v that src gave for r is a
// secret.
func isSecretValue(src keySource, r *Request, v string) bool {
	switch src.kind {
	case srcHeader, srcParam:
		return isSecretName(src.name)
	case srcAPIUser:
		// The devise_token_auth uid (an email) is not a secret; a Bearer
		// or api_access_token value is.
		return v != strings.TrimSpace(headerValue(r.Header, "Uid")) && !strings.Contains(v, "@")
	}
	return false
}

// appendKeyValue appends the value of one key source, hashed when it is a
// secret and the engine has a key secret.
func appendKeyValue(b []byte, rl *rule, src keySource, r *Request, v string) []byte {
	if len(rl.secret) == 0 || !isSecretValue(src, r, v) {
		return append(b, v...)
	}
	return AppendSecretHash(b, rl.secret, v)
}

// AppendSecretHash appends "h:" and the hex of the first 16 bytes of
// HMAC-SHA256(secret, the trimmed, lower-cased v).
func AppendSecretHash(b, secret []byte, v string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(normalizeDiscriminator([]byte(v), 0))
	var sum [sha256.Size]byte
	b = append(b, "h:"...)
	return hex.AppendEncode(b, m.Sum(sum[:0])[:16])
}
