package expr

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
