package index

import (
	"cmp"
	mbits "math/bits"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/record"
)

// Key is a sort key of the ordering clause.
type Key uint8

// The sort keys, one per orderable field.
const (
	KeyID Key = iota
	KeySetID
	KeyModuleID
	KeyProcessName
	KeyProcessID
	KeyInnerIP
	NumKeys
)

// KeyOf returns the sort key of a record field, if the field is orderable.
func KeyOf(f record.Field) (Key, bool) {
	switch f {
	case record.FieldID:
		return KeyID, true
	case record.FieldSetID:
		return KeySetID, true
	case record.FieldModuleID:
		return KeyModuleID, true
	case record.FieldProcessName:
		return KeyProcessName, true
	case record.FieldProcessID:
		return KeyProcessID, true
	case record.FieldInnerIP:
		return KeyInnerIP, true
	}
	return 0, false
}

// Order is one sort key presorted: Perm lists all rows ordered by
// (business, key value, bk_process_id) ascending, so each business's rows
// are the same contiguous span of positions as in row order; Rank gives
// each row's dense rank of the key value (equal values, equal ranks).
type Order struct {
	Perm []uint32
	Rank []uint32
	// groupStart has bit i set when Perm[i] starts a run of equal keys
	// (within a business or across one): walking Perm needs no random
	// access into Rank to find group boundaries.
	groupStart []uint64
	// Unique is true when no two rows share a key value.
	Unique bool
	// blocks holds the rows of each BlockSize positions of Perm: Block.
	blocks []*roaring.Bitmap
	// pre holds the prefix bitmaps (Before), shared by the copies of the
	// order that indexes derived from this one hold.
	pre *prefixes
}

// GroupStart reports whether position i of Perm starts a group of equal
// keys; every position of a unique key does.
func (o *Order) GroupStart(i int) bool {
	return o.Unique || o.groupStart[i>>6]&(1<<(i&63)) != 0
}

// GroupOf returns the positions [lo, hi) of the group of equal keys
// holding position p of Perm.
func (o *Order) GroupOf(p int) (lo, hi int) {
	if o.Unique {
		return p, p + 1
	}
	w := p >> 6
	below := uint64(2)<<(p&63) - 1 // bits 0..p&63
	x := o.groupStart[w] & below
	for x == 0 && w > 0 { // position 0 starts a group
		w--
		x = o.groupStart[w]
	}
	lo = w<<6 + 63 - mbits.LeadingZeros64(x)
	w = p >> 6
	x = o.groupStart[w] &^ below
	for x == 0 && w+1 < len(o.groupStart) {
		w++
		x = o.groupStart[w]
	}
	if x == 0 {
		return lo, len(o.Perm)
	}
	return lo, w<<6 + mbits.TrailingZeros64(x)
}

func newOrder(perm, rank []uint32) Order {
	o := Order{Perm: perm, Rank: rank, groupStart: make([]uint64, (len(perm)+63)/64), blocks: buildBlocks(perm)}
	o.pre = buildPrefixes(perm)
	distinct := 0
	for i, row := range perm {
		if i == 0 || rank[row] != rank[perm[i-1]] {
			o.groupStart[i>>6] |= 1 << (i & 63)
			distinct++
		}
	}
	o.Unique = distinct == len(perm)
	if o.Unique {
		o.groupStart = nil
	}
	return o
}

type intPair struct {
	v   int64
	row uint32
}

// intRanks returns the dense rank of each row's value and the rows sorted
// by (value, row).
func intRanks(n int, value func(row int) int64) (rank, sorted []uint32) {
	pairs := make([]intPair, n)
	for i := range pairs {
		pairs[i] = intPair{value(i), uint32(i)}
	}
	pairs = radixSort(pairs)
	rank = make([]uint32, n)
	sorted = make([]uint32, n)
	var r uint32
	for i, p := range pairs {
		if i > 0 && p.v != pairs[i-1].v {
			r++
		}
		rank[p.row] = r
		sorted[i] = p.row
	}
	return rank, sorted
}

// radixSort sorts pairs by value, stably (LSD radix, 16-bit digits,
// skipping digits every value shares). Pairs made in row order come out
// ordered by (value, row).
func radixSort(pairs []intPair) []intPair {
	return radixSortWith(pairs, make([]intPair, len(pairs)))
}

// radixSortWith is radixSort with tmp, as long as pairs, as its other
// buffer; the result is one of the two.
func radixSortWith(pairs, tmp []intPair) []intPair {
	key := func(p intPair) uint64 { return uint64(p.v) ^ 1<<63 }
	var counts [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(counts[:])
		for _, p := range pairs {
			counts[key(p)>>shift&0xffff]++
		}
		if len(pairs) == 0 || counts[key(pairs[0])>>shift&0xffff] == len(pairs) {
			continue // every value has this digit
		}
		sum := 0
		for i, c := range counts {
			counts[i] = sum
			sum += c
		}
		for _, p := range pairs {
			d := key(p) >> shift & 0xffff
			tmp[counts[d]] = p
			counts[d]++
		}
		pairs, tmp = tmp, pairs
	}
	return pairs
}

// countingSort returns rows stably reordered by key[row] ascending, where
// keys lie in [0, k).
func countingSort(rows, key []uint32, k int) []uint32 {
	counts := make([]uint32, k+1)
	for _, r := range rows {
		counts[key[r]+1]++
	}
	for i := 1; i <= k; i++ {
		counts[i] += counts[i-1]
	}
	out := make([]uint32, len(rows))
	for _, r := range rows {
		c := key[r]
		out[counts[c]] = r
		counts[c]++
	}
	return out
}

// CompareIP orders bk_host_innerip values: IPv4 addresses numerically,
// then other non-empty text byte-wise, then the empty string.
func CompareIP(a, b string) int {
	av, aok := parseIPv4(a)
	bv, bok := parseIPv4(b)
	switch {
	case aok && bok:
		return cmp.Compare(av, bv)
	case aok:
		return -1
	case bok:
		return 1
	case a == "" && b == "":
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// parseIPv4 reads four decimal octets 0-255 without leading zeros.
func parseIPv4(s string) (uint32, bool) {
	var v uint32
	parts := 0
	i := 0
	for parts < 4 {
		start := i
		var oct uint32
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 3 {
			oct = oct*10 + uint32(s[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || oct > 255 || (n > 1 && s[start] == '0') {
			return 0, false
		}
		v = v<<8 | oct
		parts++
		if parts < 4 {
			if i >= len(s) || s[i] != '.' {
				return 0, false
			}
			i++
		}
	}
	return v, i == len(s)
}
