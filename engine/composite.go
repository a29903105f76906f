package engine

import (
	"math/bits"
	"slices"
)

// keyedRow is a row with its rank under the keys after the first.
type keyedRow struct {
	key uint64
	row uint32
}

// compositeKey returns a function giving each row one uint64 that orders
// like sub.compare (or its reverse), when the keys' ranks fit side by side
// in 64 bits (three keys up to 2²¹ rows). Comparing one integer instead
// of chasing each key's rank column per comparison makes ordering a
// group several times cheaper.
func compositeKey(sub *pager, reverse bool) (func(row uint32) uint64, bool) {
	width := bits.Len(uint(sub.ix.Len())) // every rank is below Len
	n := len(sub.keys)
	if n == 0 || n*width > 64 {
		return nil, false
	}
	ranks := make([][]uint32, n)
	flips := make([]uint64, n)
	for i, k := range sub.keys {
		ranks[i] = sub.ix.Order(k.key).Rank
		if k.desc != reverse {
			flips[i] = 1<<width - 1
		}
	}
	switch n {
	case 1:
		return func(row uint32) uint64 { return uint64(ranks[0][row]) ^ flips[0] }, true
	case 2:
		return func(row uint32) uint64 {
			return (uint64(ranks[0][row])^flips[0])<<width | (uint64(ranks[1][row]) ^ flips[1])
		}, true
	}
	return func(row uint32) uint64 {
		var key uint64
		for i, r := range ranks {
			key = key<<width | (uint64(r[row]) ^ flips[i])
		}
		return key
	}, true
}

// sortGroup orders group by key and leaves its first end rows in place:
// a bounded selection (top-k, a max-heap of the end smallest keys) when
// end is a small part of the group, else a sort of the integer keys.
func sortGroup(group []uint32, end int, key func(row uint32) uint64, buf []keyedRow) []keyedRow {
	buf = buf[:0]
	if end <= 0 {
		return buf
	}
	heap := end*8 < len(group)
	if n := len(group); heap {
		buf = slices.Grow(buf, min(end, n))
	} else {
		buf = slices.Grow(buf, n)
	}
	if heap {
		// The heap is buf[:end]; a row whose key is not below the
		// largest kept is dropped after one comparison.
		for _, row := range group {
			k := key(row)
			if len(buf) < end {
				buf = append(buf, keyedRow{k, row})
				heapUp(buf, len(buf)-1)
			} else if k < buf[0].key {
				buf[0] = keyedRow{k, row}
				heapDown(buf, 0)
			}
		}
	} else {
		for _, row := range group {
			buf = append(buf, keyedRow{key(row), row})
		}
	}
	slices.SortFunc(buf, func(a, b keyedRow) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for i, kr := range buf {
		group[i] = kr.row
	}
	return buf
}

// heapUp restores the max-heap h after h[i] was set.
func heapUp(h []keyedRow, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h[i].key <= h[parent].key {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// heapDown restores the max-heap h after h[i] was lowered.
func heapDown(h []keyedRow, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].key > h[l].key {
			m = r
		}
		if h[m].key <= h[i].key {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
