package expr

// byteSet is a set of bytes.
type byteSet [4]uint64

func (b *byteSet) add(c byte)      { b[c>>6] |= 1 << (c & 63) }
func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }
func (b *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		b.add(byte(c))
	}
}

// endBytes returns the bytes a non-empty match of seq may end with (last)
// or begin with (!last), and false when that may be any byte or seq may
// match the empty string: a Match test of one byte rejects most strings a
// simulation would, such as the terms ending in a letter for a pattern
// ending in a number.
func endBytes(seq []node, last bool) (byteSet, bool) {
	var set byteSet
	if len(seq) == 0 {
		return set, false
	}
	n := &seq[0]
	if last {
		n = &seq[len(seq)-1]
	}
	switch n.kind {
	case kLit:
		if n.lit == "" {
			return set, false
		}
		if last {
			set.add(n.lit[len(n.lit)-1])
		} else {
			set.add(n.lit[0])
		}
	case kNum:
		set.addRange('0', '9')
	case kClass:
		if n.neg {
			return set, false
		}
		for _, r := range n.ranges {
			if r.lo < 0 {
				return set, false
			}
			if r.lo < 0x80 {
				set.addRange(byte(r.lo), byte(min(r.hi, 0x7f)))
			}
			if r.hi >= 0x80 {
				// A multi-byte rune, or an invalid byte read as U+FFFD.
				set.addRange(0x80, 0xff)
			}
		}
	case kAlt:
		for _, branch := range n.alts {
			b, ok := endBytes(branch, last)
			if !ok {
				return set, false
			}
			for i := range set {
				set[i] |= b[i]
			}
		}
	default: // kStar, kAny
		return set, false
	}
	return set, true
}
