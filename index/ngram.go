package index

import "encoding/binary"

// trigrams indexes a dictionary by the 3-byte sequences of its terms: for
// each distinct trigram, the ids of the terms that contain it. A term that
// contains a text of three bytes or more contains each of its trigrams, so
// the terms of the text's rarest trigram are a superset of the terms that
// contain the text: a search or a glob's literal piece tests those
// candidates instead of the whole dictionary.
//
// Trigrams are found in an open-addressing table of packed keys. Each
// trigram's ids are ascending and stored as uvarint deltas in one byte
// array (about 1.3 bytes an id on the 1M service-name dictionary).
type trigrams struct {
	keys  []uint32 // 0 = empty slot; else 1<<24 | the three bytes
	list  []uint32 // per slot: the trigram's list number
	count []uint32 // per list: how many terms
	off   []uint32 // per list: start of its bytes in data; one more at the end
	data  []byte
}

// gramKey packs the three bytes at s[i:] into a nonzero key.
func gramKey(s string, i int) uint32 {
	return 1<<24 | uint32(s[i])<<16 | uint32(s[i+1])<<8 | uint32(s[i+2])
}

// slot returns the slot of key: where it is, or the empty slot it would go.
func (g *trigrams) slot(key uint32) int {
	mask := len(g.keys) - 1
	for i := int(key*0x9E3779B1>>8) & mask; ; i = (i + 1) & mask {
		if k := g.keys[i]; k == key || k == 0 {
			return i
		}
	}
}

// lookup returns the list number of key.
func (g *trigrams) lookup(key uint32) (uint32, bool) {
	if len(g.keys) == 0 {
		return 0, false
	}
	i := g.slot(key)
	return g.list[i], g.keys[i] == key
}

// insert returns the list number of key, numbering it next when new.
func (g *trigrams) insert(key uint32) uint32 {
	if 4*(len(g.count)+1) > 3*len(g.keys) {
		g.grow()
	}
	i := g.slot(key)
	if g.keys[i] == 0 {
		g.keys[i], g.list[i] = key, uint32(len(g.count))
		g.count = append(g.count, 0)
	}
	return g.list[i]
}

func (g *trigrams) grow() {
	keys, list := g.keys, g.list
	n := max(2*len(keys), 1024)
	g.keys, g.list = make([]uint32, n), make([]uint32, n)
	for i, k := range keys {
		if k != 0 {
			j := g.slot(k)
			g.keys[j], g.list[j] = k, list[i]
		}
	}
}

// buildTrigrams indexes terms in two passes: one numbers the trigrams and
// sizes their lists, the other writes them.
func buildTrigrams(terms []string) *trigrams {
	g := &trigrams{}
	// last[l] is 1 + the id last added to list l, or 0.
	var last, size []uint32
	for id, t := range terms {
		for i := 0; i+3 <= len(t); i++ {
			l := g.insert(gramKey(t, i))
			if int(l) == len(last) {
				last, size = append(last, 0), append(size, 0)
			}
			if v := uint32(id) + 1; last[l] != v {
				size[l] += uvarintLen(v - last[l])
				last[l] = v
				g.count[l]++
			}
		}
	}
	g.off = make([]uint32, len(size)+1)
	for l, s := range size {
		g.off[l+1] = g.off[l] + s
	}
	g.data = make([]byte, g.off[len(size)])
	pos := size // reused: the next write position of each list
	copy(pos, g.off)
	clear(last)
	for id, t := range terms {
		for i := 0; i+3 <= len(t); i++ {
			l, _ := g.lookup(gramKey(t, i))
			if v := uint32(id) + 1; last[l] != v {
				pos[l] += uint32(binary.PutUvarint(g.data[pos[l]:], uint64(v-last[l])))
				last[l] = v
			}
		}
	}
	return g
}

func uvarintLen(v uint32) uint32 {
	n := uint32(1)
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// rarest returns the list of the trigram of the pieces held by the fewest
// terms, considering pieces of three bytes or more. found is false when no
// piece is that long (the trigrams cannot narrow); l is -1 when some
// trigram is in no term (no term holds every piece).
func (g *trigrams) rarest(pieces []string) (l int, found bool) {
	l = -1
	best := ^uint32(0)
	for _, p := range pieces {
		for i := 0; i+3 <= len(p); i++ {
			found = true
			k, ok := g.lookup(gramKey(p, i))
			if !ok {
				return -1, true
			}
			if c := g.count[k]; c < best {
				best, l = c, int(k)
			}
		}
	}
	return l, found
}

// ids appends the ids of list l to dst.
func (g *trigrams) ids(dst []uint32, l int) []uint32 {
	data := g.data[g.off[l]:g.off[l+1]]
	var v uint32
	for len(data) > 0 {
		d, n := binary.Uvarint(data)
		data = data[n:]
		v += uint32(d)
		dst = append(dst, v-1)
	}
	return dst
}

func (g *trigrams) sizeInBytes() uint64 {
	return uint64(len(g.keys)*8+len(g.count)*4+len(g.off)*4) + uint64(len(g.data))
}
