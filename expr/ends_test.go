package expr

import "testing"

// TestEndBytes lists, for general patterns, the bytes the simulated body
// may begin and end with ("" when any byte or unknown), and strings Match
// must still match and reject with those tests in front.
func TestEndBytes(t *testing.T) {
	tests := []struct {
		expr, first, last string
		match, reject     []string
	}{
		{"[10, 127].[0-255]_[a-z]*[1-65535, 80]", "1", "0123456789",
			[]string{"10.3_x_80", "127.0_ab9"}, []string{"10.3_gse_agent", "10.3_x_"}},
		{"[a-c]?*[x, y]", "abc", "xy", []string{"a1x", "cz_y"}, []string{"d1x", "a1z"}},
		{"[!a]*[é, b]", "", "b\xa9", []string{"xé", "zzb"}, []string{"xa", "ab"}},
		{"?[à-é]", "", highBytes(),
			[]string{"xé", "zà"}, []string{"xa", "é"}},
		{"*[a, b]?", "", "", []string{"xa1"}, []string{"xc1"}},
		{"[a, ]x?", "", "", []string{"ax1", "x1"}, []string{"bx1"}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		if got := spellSet(p.first, p.firstOK); got != tt.first {
			t.Errorf("%q: first bytes %q, want %q", tt.expr, got, tt.first)
		}
		if got := spellSet(p.last, p.lastOK); got != tt.last {
			t.Errorf("%q: last bytes %q, want %q", tt.expr, got, tt.last)
		}
		for _, s := range tt.match {
			if !p.Match(s) {
				t.Errorf("%q does not match %q", tt.expr, s)
			}
		}
		for _, s := range tt.reject {
			if p.Match(s) {
				t.Errorf("%q matches %q", tt.expr, s)
			}
		}
	}
}

// spellSet returns the bytes of b ascending, or "" when not ok.
func spellSet(b byteSet, ok bool) string {
	if !ok {
		return ""
	}
	var out []byte
	for c := range 256 {
		if b.has(byte(c)) {
			out = append(out, byte(c))
		}
	}
	return string(out)
}

// highBytes returns the bytes 0x80 to 0xff: any of them may end a
// multi-byte rune or be an invalid byte.
func highBytes() string {
	var out []byte
	for c := 0x80; c <= 0xff; c++ {
		out = append(out, byte(c))
	}
	return string(out)
}
