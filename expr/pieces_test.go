package expr

import (
	"slices"
	"strings"
	"testing"
)

func TestPieces(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"*", nil},
		{"abc", []string{"abc"}},
		{"*foo*bar?", []string{"foo", "bar"}},
		{"a[0-9]bc*", []string{"a", "bc"}},
		{"[x, y]", nil},
		{"进程*A", []string{"进程", "A"}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Pieces()
		if !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q).Pieces() = %q, want %q", tt.src, got, tt.want)
		}
		// Every piece is in every matching string.
		for _, s := range []string{"abc", "xfooybarz", "a1bc", "x", "进程A", "a5bcd"} {
			if !p.Match(s) {
				continue
			}
			for _, piece := range got {
				if !strings.Contains(s, piece) {
					t.Errorf("%q matches %q but lacks piece %q", tt.src, s, piece)
				}
			}
		}
	}
}

func TestAltPieces(t *testing.T) {
	tests := []struct {
		src  string
		want [][]string
	}{
		{"*", nil},
		{"*foo*", nil},
		{"*_[gse, bk][_, -]*", [][]string{{"_gse_", "_gse-", "_bk_", "_bk-"}}},
		{"[10, 127, 172].[0-255]", [][]string{{"10.", "127.", "172."}}},
		{"[a, b]x*", nil}, // "ax" and "bx" are too short for a trigram
		{"[abc, de][x, y]z?[fgh, ijk]", [][]string{{"abcxz", "abcyz", "dexz", "deyz"}, {"fgh", "ijk"}}},
		{"[!x]abc[a-z]def", nil},
	}
	for _, tt := range tests {
		p, err := Parse(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		got := p.AltPieces()
		if !slices.EqualFunc(got, tt.want, slices.Equal[[]string]) {
			t.Errorf("Parse(%q).AltPieces() = %q, want %q", tt.src, got, tt.want)
		}
	}
}
