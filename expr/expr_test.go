package expr

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// matchRow is one row of the matching table: expression, value, expected.
type matchRow struct {
	expr string
	s    string
	want bool
}

// matchTable holds a row for every rule of SPEC sections 4 and 10, every
// example given there, negative cases, and the decisions this package
// makes where the SPEC is silent.
var matchTable = []matchRow{
	// Blank means "*"; the expression is trimmed of ASCII white space.
	{"", "", true},
	{"", "anything", true},
	{"   ", "x", true},
	{"\t\n", "x", true},
	{" abc\t", "abc", true},
	{" abc\t", " abc", false},
	{"\u3000abc", "abc", false}, // only ASCII white space is trimmed

	// Anchored: the whole value must match.
	{"abc", "abc", true},
	{"abc", "xabc", false},
	{"abc", "abcx", false},
	{"abc", "", false},

	// `*` any run, also empty; `?` exactly one code point.
	{"*", "", true},
	{"*", "管控平台", true},
	{"**", "x", true},
	{"a*", "a", true},
	{"a*", "abc", true},
	{"a*", "ba", false},
	{"*_gse_agent", "127.0.0.1_gse_agent", true},
	{"*_gse_agent", "127.0.0.1_gse_agent_3306", false},
	{"*a*b*", "xxaxxbxx", true},
	{"*a*b*", "xxbxxaxx", false},
	{"?", "a", true},
	{"?", "平", true},
	{"?", "", false},
	{"?", "ab", false},
	{"???", "平", false}, // code points, not bytes
	{"进程?", "进程A", true},
	{"进程?", "进程", false},
	{"?mdb.core*", "cmdb.core", true},
	{"a?c", "a平c", true},
	{"*?", "", false},

	// Text outside brackets is literal except `*` and `?`.
	{"a.b", "a.b", true},
	{"a.b", "axb", false},
	{"a+b(c)|d$^\\", "a+b(c)|d$^\\", true},
	{"a,b", "a,b", true},
	{"!a", "!a", true},
	{"a-c", "a-c", true},
	{"a-c", "b", false},
	// A stray `]` outside a group is literal.
	{"a]b", "a]b", true},
	{"]", "]", true},
	{"[a]]", "a]", true},

	// A group runs to the first `]`; a `[` inside it is literal.
	{"[a[b]", "a[b", true},
	{"[[]", "[", true},

	// Anything else is the literal word C, wildcards still active.
	{"[abc]", "abc", true},
	{"[abc]", "a", false},
	{"[z-a]", "z-a", true},
	{"[z-a]", "y", false},
	{"[ abc ]", " abc ", true}, // a group without a comma is not trimmed
	{"[ abc ]", "abc", false},
	{"[]", "", true},
	{"a[]b", "ab", true},
	{"[]", "x", false},
	{"[存储*]", "存储层", true},
	{"[92?053]", "927053", true},
	{"[92?053]", "92053", false},
	{"[*]", "xyz", true},
	{"[5-5]", "5-5", true}, // a < b fails: a word
	{"[5-5]", "5", false},
	{"[01-1]", "01-1", true}, // 1 < 1 fails after leading zeros go
	{"[1-2-3]", "1-2-3", true},
	{"[1-2-3]", "2", false},
	{"[-2]", "-2", true},
	{"[1-]", "1-", true},
	{"[+1-5]", "+1-5", true},
	{"[1 - 5]", "1 - 5", true}, // not trimmed, so not a range
	{"[1 - 5]", "3", false},
	{"[1:2:3]", "1:2:3", true}, // near-slice: an ordinary word
	{"[a:b]", "a:b", true},

	// Letter ranges: single letters of the same case, x < y.
	{"[a-c]", "a", true},
	{"[a-c]", "b", true},
	{"[a-c]", "c", true},
	{"[a-c]", "d", false},
	{"[a-c]", "B", false},
	{"[a-c]", "", false},
	{"[a-c]", "ab", false},
	{"[A-F]", "C", true},
	{"[A-F]", "c", false},
	{"[c-a]", "c-a", true},
	{"[c-a]", "b", false},
	{"[A-c]", "A-c", true}, // mixed case: a word
	{"[A-c]", "B", false},
	{"[a-a]", "a-a", true},
	{"[α-γ]", "β", true}, // Unicode letters, code points
	{"[α-γ]", "δ", false},
	{"[一-龥]", "中", true},   // caseless letters share a case
	{"[甲-乙]", "甲-乙", true}, // 甲 > 乙: a word
	{"[a-甲]", "a-甲", true},
	{"[1-b]", "1-b", true},
	{"10.0.19.48_[a-d]gent", "10.0.19.48_agent", true},
	{"web.fro[n-t]t", "web.front", true},

	// Numeric ranges: decimal a < b; the number is written without
	// leading zeros; bounds may carry leading zeros and exceed int64.
	{"[1-100]", "7", true},
	{"[1-100]", "42", true},
	{"[1-100]", "100", true},
	{"[1-100]", "1", true},
	{"[1-100]", "007", false},
	{"[1-100]", "0", false},
	{"[1-100]", "101", false},
	{"[1-100]", "1000", false},
	{"[1-100]", "", false},
	{"[1-100]", "4a", false},
	{"[1-100]", "-5", false},
	{"[1-100]", "+5", false},
	{"[1-100]", "５", false}, // ASCII digits only
	{"[0-12]", "0", true},
	{"[0-12]", "12", true},
	{"[0-12]", "00", false},
	{"[0-12]", "13", false},
	{"[007-010]", "7", true},
	{"[007-010]", "10", true},
	{"[007-010]", "007", false},
	{"[007-010]", "010", false},
	{"[007-010]", "6", false},
	{"[007-010]", "11", false},
	{"[1-1000000000]", "1000000000", true},
	{"[1-1000000000]", "1000000001", false},
	{"[1-99999999999999999999999]", "99999999999999999999999", true},
	{"[1-99999999999999999999999]", "100000000000000000000000", false},
	{"[18446744073709551616-18446744073709551620]", "18446744073709551617", true},
	{"[18446744073709551616-18446744073709551620]", "18446744073709551621", false},
	{"zone.[1-20]x", "zone.7x", true},
	{"zone.[1-20]x", "zone.20x", true},
	{"zone.[1-20]x", "zone.21x", false},
	{"zone.[1-20]x", "zone.07x", false},
	{"zone.[1-20]x", "zone.x", false},
	{"[1-20]5", "155", true}, // 15 then 5
	{"[1-20]5", "15", true},  // 1 then 5
	{"[1-20]5", "215", false},
	{"1[0-5]", "10", true},
	{"1[0-5]", "105", false}, // 05 has a leading zero
	{"[0-999999999999][8,  1]", "12348", true},
	{"10.0.[18-20].129_consul-agent_8080", "10.0.19.129_consul-agent_8080", true},
	{"set_[0-12]", "set_3", true},

	// Lists of alternatives: split on commas, each trimmed, each read by
	// the same rules.
	{"[管控平台, PaaS平台]", "管控平台", true},
	{"[管控平台, PaaS平台]", "PaaS平台", true},
	{"[管控平台, PaaS平台]", "管控平台, PaaS平台", false},
	{"[管控平台, PaaS平台]", " PaaS平台", false},
	{"4[6, 8, 9]", "46", true},
	{"4[6, 8, 9]", "48", true},
	{"4[6, 8, 9]", "49", true},
	{"4[6, 8, 9]", "47", false},
	{"4[6, 8, 9]", "4", false},
	{"[10-19, 30-39]", "10", true},
	{"[10-19, 30-39]", "19", true},
	{"[10-19, 30-39]", "35", true},
	{"[10-19, 30-39]", "20", false},
	{"[10-19, 30-39]", "9", false},
	{"[10-19, 30-39]", "010", false},
	{"[a,]", "a", true}, // a or nothing
	{"[a,]", "", true},
	{"x[a,]y", "xy", true},
	{"x[a,]y", "xay", true},
	{"x[a,]y", "xby", false},
	{"[,]", "", true},
	{"[a , b]", "a", true},
	{"[a , b]", "a ", false},
	{"[a,\tb]", "b", true},
	{"[a-c, x]", "b", true}, // letter range alternative
	{"[a-c, x]", "x", true},
	{"[a-c, x]", "a-c", false},
	{"[a, !b]", "c", true}, // `!` alternative is a negated class
	{"[a, !b]", "a", true},
	{"[a, !b]", "b", false},
	{"[a, !b]", "!b", false},
	{"[?ppt,  模块_B]", "appt", true},
	{"[?ppt,  模块_B]", "模块_B", true},
	{"[nginx*, gse*]", "nginx-2", true},
	{"[nginx*, gse*]", "gse_agent", true},
	{"[nginx*, gse*]", "java", false},
	{"[*, a]", "zzz", true},
	{"[74][66, 14, 09]", "7409", true}, // 09 is a word, not a range
	{"[74][66, 14, 09]", "7466", true},
	{"[74][66, 14, 09]", "749", false},
	{"zon[e平台,  -2,  e.][6-10]", "zone.7", true},
	{"zon[e平台,  -2,  e.][6-10]", "zone.07", false},
	{"zon[e平台,  -2,  e.][6-10]", "zon-211", false},
	{"zon[e平台,  -2,  e.][6-10]", "zon-26", true},
	{"c[m-2, m, m1, m平台]*", "cmdb.core", true},
	{"c[m-2, m, m1, m平台]*", "cm-2", true},
	{"kafka[- , -1 , -x][0-1]", "kafka-1", true},
	{"kafka[- , -1 , -x][0-1]", "kafka-10", true},
	{"kafka[- , -1 , -x][0-1]", "kafka-x1", true},
	{"kafka[- , -1 , -x][0-1]", "kafka-2", false},
	{"[1-5 , 7]", "3", true},
	{"[1-5 , 7]", "7", true},
	{"[1-5 , 7]", "6", false},
	{"[a-c-e]*", "a-c-e.x", true},
	{"[a-c-e]*", "b", false},

	// Negated classes: one code point not in the set; the `!` rule comes
	// before the comma rule.
	{"[!abc]", "d", true},
	{"[!abc]", "a", false},
	{"[!abc]", "", false},
	{"[!abc]", "dd", false},
	{"[!a-c]", "d", true},
	{"[!a-c]", "b", false},
	{"[!a, b]", "c", true},
	{"[!a, b]", "a", false},
	{"[!a, b]", ",", false},
	{"[!a, b]", " ", false},
	{"[!a, b]", "b", false},
	{"[!平]", "台", true},
	{"[!平]", "平", false},
	{"[!0-4]", "5", true},
	{"[!0-4]", "3", false},
	{"[!a-]", "-", false},
	{"[!-a]", "-", false},
	{"[!-a]", "b", true},
	{"[!]", "x", true}, // empty set: any one code point
	{"[!]", "平", true},
	{"[!]", "", false},
	{"[!]", "xy", false},
	{"[!c-a]", "b", true}, // a reversed range adds nothing
	{"[!xc-a]", "x", false},
	{"[!xc-a]", "b", true},
	{"[!!]", "!", false},
	{"[![]", "[", false},
	{"cmd[!z].core", "cmdb.core", true},
	{"ngin[!A-F]-2", "nginx-2", true},
	{"进程[!67]", "进程A", true},
	{"进程[!67]", "进程6", false},
	{"[!n]*", "nginx", false},
	{"[!n]*", "mysql", true},

	// Invalid UTF-8: each bad byte is one character (U+FFFD in classes).
	{"?", "\xff", true},
	{"?", "\xe4\xb8", false},
	{"??", "\xe4\xb8", true},
	{"?", "\xe4\xb8\xad", true},
	{"[!a]", "\xff", true},
	{"a*", "a\xff", true},
	{"*\xff", "a\xff", true},
	{"\xe4\xb8?", "\xe4\xb8\xad", false},
	{"\xe4?", "\xe4\xb8", true},
}

func TestMatchTable(t *testing.T) {
	for _, r := range matchTable {
		p, err := Parse(r.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", r.expr, err)
			continue
		}
		if got := p.Match(r.s); got != r.want {
			t.Errorf("Parse(%q).Match(%q) = %v, want %v", r.expr, r.s, got, r.want)
		}
		// The general simulation must agree with whatever fast path the
		// pattern compiled to.
		if got := p.simulate(r.s); got != r.want {
			t.Errorf("Parse(%q).simulate(%q) = %v, want %v", r.expr, r.s, got, r.want)
		}
		if ref, err := refMatch(r.expr, r.s); err != nil || ref != r.want {
			t.Errorf("refMatch(%q, %q) = %v, %v; want %v", r.expr, r.s, ref, err, r.want)
		}
	}
}

func TestLongStrings(t *testing.T) {
	long := strings.Repeat("ab", 300) // beyond the stack bitsets
	cases := []matchRow{
		{"*b", long, true},
		{"a*[a,b]", long, true},
		{"a*?[!a]", long, true},
		{"*[x, y]*", long, false},
		{"[a,b]*a", long, false},
		{"*[1-100]", long + "99", true},
		{"*[1-100]", long + "101", true},
		{"*[1-100]", long + "0", false},
		{"*[1-100]", long + "100", true},
		{"?*?", long, true},
		{"*a[!x]ab*", long, true},
	}
	for _, r := range cases {
		p, err := Parse(r.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(r.s); got != r.want {
			t.Errorf("Parse(%q).Match(len %d) = %v, want %v", r.expr, len(r.s), got, r.want)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct{ expr, part string }{
		{"[12", "[12"},
		{"[!a", "[!a"},
		{"ab[12", "[12"},
		{"[a]b[c", "[c"},
		{"[a[b", "[a[b"},
		{"[1:", "[1:"},
		{"][", "["},
		{"   [x  ", "[x"},
		{"[管控,平台", "[管控,平台"},
	}
	for _, c := range cases {
		p, err := Parse(c.expr)
		if p != nil || err == nil {
			t.Errorf("Parse(%q) = %v, nil; want error", c.expr, p)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T, want *SyntaxError", c.expr, err)
			continue
		}
		if se.Part != c.part {
			t.Errorf("Parse(%q) Part = %q, want %q", c.expr, se.Part, c.part)
		}
		if want := "枚举表达式缺少`]`: " + c.part; se.Error() != want {
			t.Errorf("Parse(%q) Error() = %q, want %q", c.expr, se.Error(), want)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{"  a*b ": "a*b", "": "*", " \t ": "*"} {
		if got := mustParse(t, in).String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func mustParse(t testing.TB, s string) *Pattern {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}

func TestMatchesAll(t *testing.T) {
	all := []string{"", "  ", "*", "**", "***", "[*]", "[*, a]", "[a,]*", "*[,*]", "[]*[]"}
	notAll := []string{"a", "*?", "?*", "*a", "[a, b]*", "[!]*", "[*,a]x", "[1-100]"}
	for _, s := range all {
		if !mustParse(t, s).MatchesAll() {
			t.Errorf("Parse(%q).MatchesAll() = false, want true", s)
		}
	}
	for _, s := range notAll {
		if mustParse(t, s).MatchesAll() {
			t.Errorf("Parse(%q).MatchesAll() = true, want false", s)
		}
	}
}

func TestLiterals(t *testing.T) {
	cases := []struct {
		expr string
		want []string // nil: not a finite literal set
	}{
		{"abc", []string{"abc"}},
		{"[]", []string{""}},
		{"[a, b]x", []string{"ax", "bx"}},
		{"[模块_A,  模块_A]", []string{"模块_A"}},
		{"4[6, 8, 9]", []string{"46", "48", "49"}},
		{"[a-c]", []string{"a", "b", "c"}},
		{"[a,]", []string{"a", ""}},
		{"[a,b][a,b]", []string{"aa", "ab", "ba", "bb"}},
		{"[a, ab][b, ]", []string{"ab", "a", "abb"}},
		{"zone.[1-3]", []string{"zone.1", "zone.2", "zone.3"}},
		{"[z-a]", []string{"z-a"}},
		{"[007-010]", []string{"7", "8", "9", "10"}},
		{"*", nil},
		{"a?", nil},
		{"[!a]", nil},
		{"[a*, b]", nil},
		{"[1-1000]", nil},                  // more than LiteralsCap
		{"[A-Z][0-9]", nil},                // 260 > LiteralsCap
		{"[a,b][a,b][a,b][a,b][a,b]", nil}, // 32 strings: checked by count below
		{"[1-99999999999999999999]", nil},
	}
	for _, c := range cases {
		got, ok := mustParse(t, c.expr).Literals()
		if c.expr == "[a,b][a,b][a,b][a,b][a,b]" {
			if !ok || len(got) != 32 {
				t.Errorf("Parse(%q).Literals() = %d strings, %v; want 32", c.expr, len(got), ok)
			}
			continue
		}
		if c.want == nil {
			if ok {
				t.Errorf("Parse(%q).Literals() = %q, true; want false", c.expr, got)
			}
			continue
		}
		sort.Strings(got)
		want := append([]string(nil), c.want...)
		sort.Strings(want)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q).Literals() = %q, %v; want %q", c.expr, got, ok, want)
		}
	}
}

func TestPrefixSuffix(t *testing.T) {
	cases := []struct{ expr, prefix, suffix string }{
		{"abc", "abc", "abc"},
		{"*", "", ""},
		{"*_gse_agent", "", "_gse_agent"},
		{"zone.[1-20]", "zone.", ""},
		{"zone.[1-20]x", "zone.", "x"},
		{"[100-199]", "1", ""},
		{"[1-100]", "", ""},
		{"1*", "1", ""},
		{"ab?cd", "ab", "cd"},
		{"[管控平台, 管理平台]", "管", "平台"},
		{"[é, è]", "", ""}, // a common first byte is not a character
		{"[é, ©]", "", ""}, // a common last byte is not a character
		{"x[a*, ab]y", "xa", "y"},
		{"[a, b]", "", ""},
		{"[a-c]x", "", "x"},
		{"[!a]x", "", "x"},
	}
	for _, c := range cases {
		p := mustParse(t, c.expr)
		if got := p.Prefix(); got != c.prefix {
			t.Errorf("Parse(%q).Prefix() = %q, want %q", c.expr, got, c.prefix)
		}
		if got := p.Suffix(); got != c.suffix {
			t.Errorf("Parse(%q).Suffix() = %q, want %q", c.expr, got, c.suffix)
		}
	}
}

func TestIntRanges(t *testing.T) {
	const max = math.MaxInt64
	cases := []struct {
		expr string
		want []IntRange // nil: false
	}{
		{"42", []IntRange{{42, 42}}},
		{"0", []IntRange{{0, 0}}},
		{"-7", []IntRange{{-7, -7}}},
		{"[1-100]", []IntRange{{1, 100}}},
		{"[1-100000]", []IntRange{{1, 100000}}},
		{"[10-19, 30-39]", []IntRange{{10, 19}, {30, 39}}},
		{"4[6, 8, 9]", []IntRange{{46, 46}, {48, 49}}},
		{"[1-10, 5-20]", []IntRange{{1, 20}}},
		{"[1-1000, 2000]", []IntRange{{1, 1000}, {2000, 2000}}},
		{"[1-1000, 1001-5000]", []IntRange{{1, 5000}}},
		{"[0-999999999999]", []IntRange{{0, 999999999999}}},
		{"[1-99999999999999999999]", []IntRange{{1, max}}},
		{"[99999999999999999999-999999999999999999999]", []IntRange{}},
		{"99999999999999999999", []IntRange{}},
		{"[221847-579332, 295026-357561]", []IntRange{{221847, 579332}}},
		{"[74][66, 14, 09]", []IntRange{{7409, 7409}, {7414, 7414}, {7466, 7466}}},
		{"007", nil},
		{"-0", nil},
		{"", nil},
		{"*", nil},
		{"1*", nil},
		{"[1-1000, x]", nil},
		{"[1-1000]x", nil},
		{"[5:17]", nil},
		{"[0-999999999999][8,  1]", nil},
	}
	for _, c := range cases {
		got, ok := mustParse(t, c.expr).IntRanges()
		if c.want == nil {
			if ok {
				t.Errorf("Parse(%q).IntRanges() = %v, true; want false", c.expr, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q).IntRanges() = %v, %v; want %v", c.expr, got, ok, c.want)
		}
	}
}

func TestParseSlice(t *testing.T) {
	type res struct {
		sl  Slice
		ok  bool
		err bool
	}
	s := func(from, to int64, hf, ht bool) res { return res{Slice{from, to, hf, ht}, true, false} }
	notSlice := res{}
	bad := res{ok: true, err: true}
	cases := []struct {
		in   string
		want res
	}{
		{"[5:17]", s(5, 17, true, true)},
		{"[:-28]", s(0, -28, false, true)},
		{"[-29:-4]", s(-29, -4, true, true)},
		{"[27:-22]", s(27, -22, true, true)},
		{"[: ]", s(0, 0, false, false)},
		{"[:]", s(0, 0, false, false)},
		{"[ :]", s(0, 0, false, false)},
		{"[5000 :-3]", s(5000, -3, true, true)},
		{"[1 : 2]", s(1, 2, true, true)},
		{"[3: ]", s(3, 0, true, false)},
		{"[-12:]", s(-12, 0, true, false)},
		{"[+3:+5]", s(3, 5, true, true)},
		{"[007:010]", s(7, 10, true, true)},
		{"  [1:2]\t", s(1, 2, true, true)},
		{"[-9223372036854775808:9223372036854775807]", s(math.MinInt64, math.MaxInt64, true, true)},
		{"[0:3]x", bad},
		{"[0:3][1:2]", bad},
		{"[0:3] x", bad},
		{"[99999999999999999999:]", bad},
		{"[:-9223372036854775809]", bad},
		{"[1:2:3]", notSlice},
		{"[a:b]", notSlice},
		{"[1:", notSlice},
		{"[-:1]", notSlice},
		{"[1:+]", notSlice},
		{"[1  :2]", notSlice},
		{"[1:  2]", notSlice},
		{"[ 1:2]", notSlice},
		{"[1:2 ]", notSlice},
		{"[1-2]", notSlice},
		{"[12]", notSlice},
		{"1:2", notSlice},
		{"x[1:2]", notSlice},
		{"*", notSlice},
		{"", notSlice},
	}
	for _, c := range cases {
		sl, ok, err := ParseSlice(c.in)
		got := res{sl, ok, err != nil}
		if got != c.want {
			t.Errorf("ParseSlice(%q) = %+v, %v, %v; want %+v", c.in, sl, ok, err, c.want)
			continue
		}
		if err != nil {
			var se *SliceError
			if !errors.As(err, &se) || se.Expr != strings.TrimSpace(c.in) || se.Reason == "" || !strings.Contains(err.Error(), se.Expr) {
				t.Errorf("ParseSlice(%q) error %#v", c.in, err)
			}
		}
	}
	// Every slice is a valid pattern, so Parse-then-ParseSlice keeps the
	// SPEC's precedence: `[0:3][1:` is a syntax error before a slice error.
	for _, c := range cases {
		if _, ok, _ := ParseSlice(c.in); ok {
			if _, err := Parse(c.in); err != nil {
				t.Errorf("Parse(%q) of a slice: %v", c.in, err)
			}
		}
	}
	if _, ok, err := ParseSlice("[0:3][1:"); !ok || err == nil {
		t.Errorf("ParseSlice([0:3][1:) = %v, %v", ok, err)
	}
	if _, err := Parse("[0:3][1:"); err == nil {
		t.Error("Parse([0:3][1:) should fail")
	}
	// A near-slice parses as an ordinary word; `[1:` is a syntax error.
	if !mustParse(t, "[1:2:3]").Match("1:2:3") {
		t.Error("[1:2:3] should be the word 1:2:3")
	}
	if _, err := Parse("[1:"); err == nil {
		t.Error("Parse([1:) should fail")
	}
}

func TestSliceBounds(t *testing.T) {
	cases := []struct {
		in         string
		n          int
		start, end int
	}{
		{"[5:17]", 10, 5, 10},
		{"[:-28]", 10, 0, 0},
		{"[-29:-4]", 10, 0, 6},
		{"[27:-22]", 10, 10, 10},
		{"[-12:]", 10, 0, 10},
		{"[20:11]", 10, 10, 10},
		{"[1:0]", 10, 1, 1},
		{"[100:-20]", 10, 10, 10},
		{"[-12:100]", 10, 0, 10},
		{"[:]", 10, 0, 10},
		{"[3:]", 10, 3, 10},
		{"[:3]", 10, 0, 3},
		{"[-3:]", 10, 7, 10},
		{"[2:-2]", 10, 2, 8},
		{"[5:5]", 10, 5, 5},
		{"[:]", 0, 0, 0},
		{"[-1:]", 0, 0, 0},
		{"[-9223372036854775808:9223372036854775807]", 10, 0, 10},
		{"[9223372036854775807:-9223372036854775808]", 10, 10, 10},
	}
	for _, c := range cases {
		sl, ok, err := ParseSlice(c.in)
		if !ok || err != nil {
			t.Fatalf("ParseSlice(%q) = %v, %v", c.in, ok, err)
		}
		start, end := sl.Bounds(c.n)
		if start != c.start || end != c.end {
			t.Errorf("%q.Bounds(%d) = %d, %d; want %d, %d", c.in, c.n, start, end, c.start, c.end)
		}
	}
	if start, end := (Slice{}).Bounds(-1); start != 0 || end != 0 {
		t.Errorf("Bounds(-1) = %d, %d", start, end)
	}
}

func TestMatchAllocs(t *testing.T) {
	exprs := []string{"*_gse_agent", "[1-1000000000]", "zone.[1-20]", "[a,b]?[!c]*[0-9][x, y]*", "*a*b*"}
	s := "10.0.18.129_gse_agent_3306_zone.12abc"
	for _, e := range exprs {
		p := mustParse(t, e)
		if a := testing.AllocsPerRun(100, func() { p.Match(s) }); a != 0 {
			t.Errorf("Parse(%q).Match allocates %v times", e, a)
		}
	}
}
