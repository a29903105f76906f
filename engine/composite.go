package engine

import "slices"

// keyedRow is a row with its rank under the keys after the first.
type keyedRow struct {
	key uint64
	row uint32
}

// compositeKey returns a function giving each row one uint64 that orders
// like sub.compare (or its reverse), when the keys fit: at most two, each
// rank below 2³². Comparing one integer instead of chasing each key's rank
// column per comparison makes ordering a group several times cheaper.
func compositeKey(sub *pager, reverse bool) (func(row uint32) uint64, bool) {
	if len(sub.keys) == 0 || len(sub.keys) > 2 {
		return nil, false
	}
	ranks := make([][]uint32, len(sub.keys))
	flips := make([]uint64, len(sub.keys))
	for i, k := range sub.keys {
		ranks[i] = sub.ix.Order(k.key).Rank
		if k.desc != reverse {
			flips[i] = 1<<32 - 1
		}
	}
	if len(ranks) == 1 {
		return func(row uint32) uint64 { return uint64(ranks[0][row]) ^ flips[0] }, true
	}
	return func(row uint32) uint64 {
		return (uint64(ranks[0][row])^flips[0])<<32 | (uint64(ranks[1][row]) ^ flips[1])
	}, true
}

// sortGroup orders group by key and leaves its first end rows in place:
// a bounded selection (top-k) when end is a small part of the group, else
// a sort of the integer keys.
func sortGroup(group []uint32, end int, key func(row uint32) uint64, buf []keyedRow) []keyedRow {
	buf = buf[:0]
	for _, row := range group {
		buf = append(buf, keyedRow{key(row), row})
	}
	less := func(a, b keyedRow) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	}
	if end <= 256 && end*8 < len(buf) {
		// Keep the end smallest in buf[:end], sorted; a larger key than
		// the end-th is dropped after one comparison.
		top := buf[:0:end]
		for _, kr := range buf {
			if len(top) == end && kr.key >= top[end-1].key {
				continue
			}
			i, _ := slices.BinarySearchFunc(top, kr, less)
			if len(top) < end {
				top = append(top, keyedRow{})
			}
			copy(top[i+1:], top[i:len(top)-1])
			top[i] = kr
		}
		buf = top
	} else {
		slices.SortFunc(buf, less)
	}
	for i, kr := range buf {
		group[i] = kr.row
	}
	return buf
}
