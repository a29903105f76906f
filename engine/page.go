package engine

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// sortKey is one key of a normalized ordering.
type sortKey struct {
	key  index.Key
	desc bool
}

// normalizeOrdering drops repeated keys, drops everything after
// bk_process_id (it is unique, so later keys never decide), and ends the
// list with bk_process_id ascending, the tie-break.
func normalizeOrdering(keys []sortKey) []sortKey {
	out := make([]sortKey, 0, len(keys)+1)
	var seen [index.NumKeys]bool
	for _, k := range keys {
		if seen[k.key] {
			continue
		}
		seen[k.key] = true
		out = append(out, k)
		if k.key == index.KeyProcessID {
			return out
		}
	}
	return append(out, sortKey{key: index.KeyProcessID})
}

// pager selects one page of a result in a given order.
type pager struct {
	ix   *index.Index
	dl   *deadline // long loops stop once it expires
	keys []sortKey // normalized: ends with bk_process_id
	how  string    // the strategy of the last page, for explain
}

// compare orders two rows by the keys.
func (p *pager) compare(a, b uint32) int {
	for _, k := range p.keys {
		rank := p.ix.Order(k.key).Rank
		if c := cmp.Compare(rank[a], rank[b]); c != 0 {
			if k.desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// interruptible is compare for a sort: once the deadline expires it calls
// every pair equal, so the sort ends in about a pass and the caller
// discards its order.
func (p *pager) interruptible() func(a, b uint32) int {
	n := 0
	stopped := false
	return func(a, b uint32) int {
		if n++; n%checkEvery == 0 && !stopped {
			stopped = p.dl.expired()
		}
		if stopped {
			return 0
		}
		return p.compare(a, b)
	}
}

// page returns the rows of res (r of them, all inside span) at positions
// [off, off+limit) of the order, without sorting the whole result.
func (p *pager) page(res *roaring.Bitmap, r uint64, span index.Span, off uint64, limit int) []uint32 {
	if off >= r || limit <= 0 {
		return nil
	}
	need := min(off+uint64(limit), r)
	// Deep pages are cheaper to reach from the far end.
	reverse := off > r/2
	reach := need // the result rows a walk passes to reach the page's end
	if reverse {
		reach = r - off
	}
	// Cost model, in row visits: walking a presorted order visits about
	// reach·|span|/r rows (each a bitmap Contains); scanning visits every
	// result row and sorts or heaps them, a few times dearer per row.
	// The estimate assumes the result is spread evenly over the order; when
	// it is not (a range of ids is one end of the id order), the walk gives
	// up after visiting as many rows as a scan would cost and scans.
	// A long walk tests membership in a dense copy of the result
	// (members), which saves the cache misses of a Contains in a big
	// result's containers, but not the walk's own work a position: it
	// counts as a visit all the same: counting it as an eighth made
	// BenchmarkDo/module_ids at 1M walk 21k positions instead of sorting
	// 2.7k rows, 74 -> 267 µs (BENCHMARKS.md, round 5).
	walkCost := float64(reach) * float64(span.Len()) / float64(r)
	scanCost := 4 * float64(r)
	if walkCost <= scanCost {
		budget := int(scanCost) + 64
		if reverse {
			if rows, ok := p.walk(res, span, r-need, r-off, true, budget); ok {
				slices.Reverse(rows)
				p.how = "walk_reverse"
				return rows
			}
		} else if rows, ok := p.walk(res, span, off, need, false, budget); ok {
			p.how = "walk"
			return rows
		}
	}
	p.how = "scan"
	return p.scan(res, r, off, need)
}

// walk visits the presorted order of the first key (from its far end when
// reverse) and returns the result rows at positions [from, to) of that
// traversal. Rows with equal first keys form a group; a group is
// ordered by the remaining keys before its rows are counted. It gives up
// (false) once it has visited more than budget rows.
func (p *pager) walk(res *roaring.Bitmap, span index.Span, from, to uint64, reverse bool, budget int) ([]uint32, bool) {
	first := p.keys[0]
	o := p.ix.Order(first.key)
	perm := o.Perm[span.Lo:span.Hi]
	base := int(span.Lo)
	groupsForward := first.desc == reverse
	sub := &pager{ix: p.ix, dl: p.dl, keys: p.keys[1:]}
	// Within a group the presorted order is ascending bk_process_id; any
	// other remaining keys need a sort.
	subSort := len(p.keys) > 2 || p.keys[len(p.keys)-1].desc
	out := make([]uint32, 0, to-from)
	n := len(perm)
	if o.Unique && uint64(n) == res.GetCardinality() {
		// Every row of the span is in the result and every group is one
		// row: positions map straight onto the permutation.
		if groupsForward {
			return append(out, perm[from:to]...), true
		}
		for i := n - 1 - int(from); i > n-1-int(to); i-- {
			out = append(out, perm[i])
		}
		return out, true
	}
	var group []uint32
	var keyed []keyedRow
	composite, _ := compositeKey(sub, reverse)
	// Whole blocks of the order before the from-th match are counted,
	// not walked.
	m := newMembers(res, float64(to)*float64(n)/float64(max(res.GetCardinality(), 1)))
	defer m.release()
	done, seen := skip(p.dl, m, o, span, from, groupsForward)
	budget += done
	for groups := 0; done < n && seen < to; groups++ {
		if groups%checkEvery == 0 && p.dl.expired() {
			return nil, true
		}
		lo, hi := nextGroup(o, base, n, done, groupsForward)
		done += hi - lo
		if done > budget {
			return nil, false
		}
		if hi-lo >= bigGroup {
			rows, g := p.bigGroupRows(res, o, span, base+lo, base+hi, seen, from, to, reverse, subSort)
			out, seen = append(out, rows...), seen+g
			continue
		}
		// Without a sort inside the group, its first to-seen matches
		// are all the page needs of it: a first page of a big group
		// (a common process name at 1M) stops there.
		limit := hi - lo
		if !subSort {
			limit = int(min(to-seen, uint64(limit)))
		}
		group = collectGroup(m, perm[lo:hi], reverse, group[:0], limit)
		g := uint64(len(group))
		if seen+g <= from {
			seen += g
			continue
		}
		switch {
		case subSort && composite != nil:
			keyed = sortGroup(group, int(min(g, to-seen)), composite, keyed)
		case subSort:
			slices.SortFunc(group, func(a, b uint32) int {
				if reverse {
					return sub.compare(b, a)
				}
				return sub.compare(a, b)
			})
		}
		start := uint64(0)
		if from > seen {
			start = from - seen
		}
		end := min(g, to-seen)
		out = append(out, group[start:end]...)
		seen += g
	}
	return out, true
}

// bigGroup is the size from which walk pages a group of the first key
// by the remaining keys' presorted orders instead of sorting its rows,
// or, when the group needs no sort, counts its matches by blocks.
const bigGroup = 4096

// bigGroupRows pages a group of bigGroup rows or more at positions
// [lo, hi) of o: by the remaining keys' orders when it needs a sort
// (groupPage), else by its positions (groupRun).
func (p *pager) bigGroupRows(res *roaring.Bitmap, o *index.Order, span index.Span, lo, hi int, seen, from, to uint64, reverse, subSort bool) ([]uint32, uint64) {
	if subSort {
		sub := &pager{ix: p.ix, dl: p.dl, keys: p.keys[1:]}
		return p.groupPage(res, o, span, lo, hi, seen, from, to, reverse, sub)
	}
	return groupRun(res, o, lo, hi, seen, from, to, reverse)
}

// groupPage returns the rows of the group at positions [lo, hi) of o
// that the walk's page [from, to) takes, seen matches having come
// before the group, ordered by sub's keys (in reverse when reverse), and
// the group's matches. The group's rows are one bitmap
// (rowsAtPositions), paged by sub like a result of its own: for the
// first page of a process name held by 90k rows at 1M, a walk of a few
// hundred positions of the second key's order instead of a selection
// over 90k rows (4-10 ms).
func (p *pager) groupPage(res *roaring.Bitmap, o *index.Order, span index.Span, lo, hi int, seen, from, to uint64, reverse bool, sub *pager) ([]uint32, uint64) {
	grp := rowsAtPositions(o, lo, hi, res)
	g := grp.GetCardinality()
	if seen+g <= from {
		return nil, g
	}
	start := uint64(0)
	if from > seen {
		start = from - seen
	}
	end := min(g, to-seen)
	if !reverse {
		return sub.page(grp, g, span, start, int(end-start)), g
	}
	rows := sub.page(grp, g, span, g-end, int(end-start))
	slices.Reverse(rows)
	return rows, g
}

// nextGroup returns the next group of equal first keys, positions
// [lo, hi) of the span's permutation (base is the span's first position,
// n its length), once done positions have been visited from the start
// (forward) or the end. Boundaries come from the order's group-start
// bits, so no rank is read.
func nextGroup(o *index.Order, base, n, done int, forward bool) (lo, hi int) {
	if forward {
		lo = done
		hi = lo + 1
		for hi < n && !o.GroupStart(base+hi) {
			hi++
		}
		return lo, hi
	}
	hi = n - done
	lo = hi - 1
	for lo > 0 && !o.GroupStart(base+lo) {
		lo--
	}
	return lo, hi
}

// collectGroup appends to group the rows of perm (backwards when reverse)
// that are in res, up to limit of them.
func collectGroup(res *members, perm []uint32, reverse bool, group []uint32, limit int) []uint32 {
	if limit <= 0 {
		return group
	}
	base := len(group)
	if reverse {
		for i := len(perm) - 1; i >= 0; i-- {
			if res.has(perm[i]) {
				if group = append(group, perm[i]); len(group)-base == limit {
					break
				}
			}
		}
		return group
	}
	for _, row := range perm {
		if res.has(row) {
			if group = append(group, row); len(group)-base == limit {
				break
			}
		}
	}
	return group
}

// scan orders every result row and returns positions [from, to).
func (p *pager) scan(res *roaring.Bitmap, r, from, to uint64) []uint32 {
	rows := make([]uint32, 0, r)
	it := res.ManyIterator()
	buf := make([]uint32, 256)
	for {
		k := it.NextMany(buf)
		if k == 0 {
			break
		}
		rows = append(rows, buf[:k]...)
	}
	if key, ok := compositeKey(p, false); ok {
		// One integer rank per row: a bounded selection or a sort of
		// integers, never a comparison that reads every key's ranks.
		sortGroup(rows, int(to), key, nil)
		if p.dl.expired() {
			return nil
		}
		return rows[from:to]
	}
	if to*8 < r {
		return p.topK(rows, from, to)
	}
	slices.SortFunc(rows, p.interruptible())
	if p.dl.expired() {
		return nil
	}
	return rows[from:to]
}

// topK keeps the first `to` rows in a bounded max-heap, then sorts them.
func (p *pager) topK(rows []uint32, from, to uint64) []uint32 {
	k := int(to)
	heap := make([]uint32, 0, k)
	less := func(i, j int) bool { return p.compare(heap[i], heap[j]) > 0 } // max-heap
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && less(r, l) {
				m = r
			}
			if !less(m, i) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	up := func(i int) {
		for i > 0 {
			parent := (i - 1) / 2
			if !less(i, parent) {
				return
			}
			heap[i], heap[parent] = heap[parent], heap[i]
			i = parent
		}
	}
	for i, row := range rows {
		if i%checkEvery == 0 && p.dl.expired() {
			return nil
		}
		if len(heap) < k {
			heap = append(heap, row)
			up(len(heap) - 1)
			continue
		}
		if p.compare(row, heap[0]) < 0 {
			heap[0] = row
			down(0)
		}
	}
	slices.SortFunc(heap, p.compare)
	if from >= uint64(len(heap)) {
		return nil
	}
	return heap[from:]
}
