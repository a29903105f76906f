package gsekit

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"os"
)

// Credentials is the set of API gateway apps allowed to query: each app
// code with its secret. The secrets are kept only as SHA-256 digests and
// are never logged.
type Credentials struct {
	digests map[string][sha256.Size]byte
}

// NewCredentials returns the credentials of secrets, a map from app code
// to secret. Empty codes and secrets are rejected.
func NewCredentials(secrets map[string]string) (*Credentials, error) {
	c := &Credentials{digests: make(map[string][sha256.Size]byte, len(secrets))}
	for code, secret := range secrets {
		if code == "" {
			return nil, fmt.Errorf("empty app code")
		}
		if secret == "" {
			return nil, fmt.Errorf("app %q: empty secret", code)
		}
		c.digests[code] = sha256.Sum256([]byte(secret))
	}
	if len(c.digests) == 0 {
		return nil, fmt.Errorf("no apps: nobody could query")
	}
	return c, nil
}

// LoadCredentials reads credentials from a JSON object file mapping each
// app code to its secret, such as {"gsekit": "a-secret"}.
func LoadCredentials(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app credentials: %w", err)
	}
	var secrets map[string]string
	if err := json.Unmarshal(b, &secrets); err != nil {
		// The decoder's message names a type or an offset, never a value.
		return nil, fmt.Errorf("app credentials %s: want a JSON object of app code to secret strings: %w", path, err)
	}
	c, err := NewCredentials(secrets)
	if err != nil {
		return nil, fmt.Errorf("app credentials %s: %w", path, err)
	}
	return c, nil
}

// Len returns the number of apps.
func (c *Credentials) Len() int { return len(c.digests) }

// unknownApp is compared against when the app code is unknown, so that an
// unknown code costs the same as a wrong secret.
var unknownApp = sha256.Sum256([]byte("procq: no such app"))

// Check reports whether secret is the secret of app code. The comparison
// takes the same time whatever the secret and whether the code is known.
func (c *Credentials) Check(code, secret string) bool {
	want, known := c.digests[code]
	if !known {
		want = unknownApp
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known
}

// AppCredentials returns the string members bk_app_code and bk_app_secret
// of a JSON object body, "" for each that is absent or not a string (and
// for both when body is not a JSON object).
func AppCredentials(body []byte) (code, secret string) {
	var v struct {
		Code   json.RawMessage `json:"bk_app_code"`
		Secret json.RawMessage `json:"bk_app_secret"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	return jsonString(v.Code), jsonString(v.Secret)
}

func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
