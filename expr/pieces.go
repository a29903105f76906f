package expr

import "slices"

// Pieces returns literal texts that every matching string contains: the
// runs of plain text of the expression outside `[...]` groups, such as
// "foo" and "bar" for `*foo*bar?`. An index of substrings can narrow a
// dictionary to the terms holding all of them before Match decides.
func (p *Pattern) Pieces() []string {
	var out []string
	run := ""
	for _, n := range p.seq {
		if n.kind == kLit {
			run += n.lit
			continue
		}
		if run != "" {
			out = append(out, run)
		}
		run = ""
	}
	if run != "" {
		out = append(out, run)
	}
	return out
}

// maxAlternatives bounds the alternatives of one set of AltPieces.
const maxAlternatives = 16

// maxClassRunes is the largest character class AltPieces spells out.
const maxClassRunes = 4

// AltPieces returns sets of literal texts such that every matching string
// contains at least one text of each set: a run of plain text, groups of
// plain alternatives and small character classes, spelled out, such as
// {"_gse_", "_gse-", "_bk_", "_bk-"} for `*_[gse, bk][_, -]*`. Only sets
// of two texts or more, each of three bytes or more, are returned (one
// text is a piece of Pieces; a shorter text narrows nothing by trigrams).
func (p *Pattern) AltPieces() [][]string { return p.altPieces(3) }

// altPieces is AltPieces with texts of at least minLen bytes.
func (p *Pattern) altPieces(minLen int) [][]string {
	var out [][]string
	cur := []string{""}
	flush := func() {
		if len(cur) > 1 && slices.IndexFunc(cur, func(s string) bool { return len(s) < minLen }) < 0 {
			out = append(out, cur)
		}
		cur = []string{""}
	}
	for _, n := range p.seq {
		next, ok := spell(n)
		if !ok || len(cur)*len(next) > maxAlternatives {
			flush()
			if !ok {
				continue
			}
		}
		grown := make([]string, 0, len(cur)*len(next))
		for _, c := range cur {
			for _, s := range next {
				grown = append(grown, c+s)
			}
		}
		cur = grown
	}
	flush()
	return out
}

// spell returns the texts node n matches when they are few literal ones.
func spell(n node) ([]string, bool) {
	switch n.kind {
	case kLit:
		return []string{n.lit}, true
	case kAlt:
		out := make([]string, 0, len(n.alts))
		for _, branch := range n.alts {
			s := ""
			for _, m := range branch {
				if m.kind != kLit {
					return nil, false
				}
				s += m.lit
			}
			out = append(out, s)
		}
		return out, len(out) <= maxAlternatives
	case kClass:
		if n.neg {
			return nil, false
		}
		var out []string
		for _, r := range n.ranges {
			if int(r.hi-r.lo)+1+len(out) > maxClassRunes {
				return nil, false
			}
			for c := r.lo; c <= r.hi; c++ {
				out = append(out, string(c))
			}
		}
		return out, true
	}
	return nil, false
}
