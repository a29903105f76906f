package gsekit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":     `{"a":`,
		"not strings":  `{"a": 1}`,
		"an array":     `["a"]`,
		"empty":        `{}`,
		"empty secret": `{"a": ""}`,
		"empty code":   `{"": "x"}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadCredentials(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v, want one naming the file", name, err)
		}
	}
	if _, err := LoadCredentials(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	c, err := NewCredentials(map[string]string{"a": "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, secret string
		ok           bool
	}{{"a", "x", true}, {"a", "y", false}, {"a", "", false}, {"b", "x", false}, {"", "", false}} {
		if got := c.Check(tc.code, tc.secret); got != tc.ok {
			t.Errorf("Check(%q, %q) = %v", tc.code, tc.secret, got)
		}
	}
}

func TestAppCredentials(t *testing.T) {
	for body, want := range map[string][2]string{
		`{"bk_app_code":"a","bk_app_secret":"s"}`: {"a", "s"},
		`{"bk_app_code":"a"}`:                     {"a", ""},
		`{"bk_app_code":1,"bk_app_secret":true}`:  {"", ""},
		`{"bk_app_code":"a",`:                     {"", ""},
		`[1]`:                                     {"", ""},
		``:                                        {"", ""},
	} {
		if c, s := AppCredentials([]byte(body)); c != want[0] || s != want[1] {
			t.Errorf("%s: %q %q, want %q", body, c, s, want)
		}
	}
}
