package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// naiveString is AppendString written a rune at a time: the reference of
// the word-at-a-time fast path.
func naiveString(s string) []byte {
	b := []byte{'"'}
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b = append(b, `\ufffd`...)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, s[i:i+w]...)
		}
	}
	return append(b, '"')
}

// escapePieces are fragments that place every kind of byte at every
// offset of an 8-byte word once joined.
var escapePieces = []string{"a", "abcdefg", "\"", "\\", "\x00", "\x1f", " ", "~", "\x7f", "\n", "\t", "\r",
	"\x80", "\xff", "\xe4\xb8", "名", "😀", "\u2028", "<>&", "\xef\xbf\xbd", "!", "#", "[", "]", "\x21\x23"}

// TestAppendStringNaive compares AppendString with naiveString on random
// joins of escapePieces of every length up to 64 bytes.
func TestAppendStringNaive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var sb strings.Builder
		for sb.Len() < rnd.IntN(65) {
			sb.WriteString(escapePieces[rnd.IntN(len(escapePieces))])
		}
		s := sb.String()
		want := naiveString(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
		if asIs := bytes.Equal(want[1:len(want)-1], []byte(s)); Verbatim(s) != asIs {
			t.Fatalf("%q: Verbatim %v, but the reference writes it as is: %v", s, !asIs, asIs)
		}
	}
}

// FuzzAppendString checks AppendString against naiveString and that it
// writes one JSON string.
func FuzzAppendString(f *testing.F) {
	for _, p := range escapePieces {
		f.Add(strings.Repeat(p, 9))
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendString(nil, s)
		if want := naiveString(s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
		if asIs := bytes.Equal(got[1:len(got)-1], []byte(s)); Verbatim(s) != asIs {
			t.Fatalf("%q: Verbatim %v, but written as is: %v", s, !asIs, asIs)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", s, got, err)
		}
	})
}

// BenchmarkAppendString escapes a typical record string (ASCII with a
// few dots) and one with CJK text.
func BenchmarkAppendString(b *testing.B) {
	for _, s := range []string{"10.0.1.23.gse_agent.gse_agent_48000.gse_agent.10002", "华东9区.存储层.mysql_3306_3306.mysql_3306.109716785"} {
		b.Run(fmt.Sprint(len(s)), func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = AppendString(buf[:0], s)
			}
		})
	}
}
