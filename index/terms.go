package index

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// IntTerms is an inverted index of an integer field: value → rows.
type IntTerms struct {
	rows map[int64]*roaring.Bitmap
}

// Get returns the rows holding v, or nil. The bitmap is shared: read only.
func (t *IntTerms) Get(v int64) *roaring.Bitmap { return t.rows[v] }

// Len returns the number of distinct values.
func (t *IntTerms) Len() int { return len(t.rows) }

// Union returns the rows holding any of vs. The result may be shared when
// a single value matches: treat it as read only.
func (t *IntTerms) Union(vs []int64) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for _, v := range vs {
		if b := t.rows[v]; b != nil {
			bms = append(bms, b)
		}
	}
	return union(bms)
}

func (t *IntTerms) sizeInBytes() uint64 {
	var n uint64
	for _, b := range t.rows {
		n += b.GetSizeInBytes() + 16
	}
	return n
}

// buildIntTerms indexes value(row) for rows [0, n). Rows are visited as
// runs of equal values, which topology order makes long for the topology
// fields, so most rows cost no map lookup.
func buildIntTerms(n int, value func(row int) int64) *IntTerms {
	ids := make(map[int64]uint32)
	var values []int64
	rowTerm := make([]uint32, n)
	for lo := 0; lo < n; {
		v := value(lo)
		hi := lo + 1
		for hi < n && value(hi) == v {
			hi++
		}
		id, ok := ids[v]
		if !ok {
			id = uint32(len(values))
			ids[v] = id
			values = append(values, v)
		}
		for row := lo; row < hi; row++ {
			rowTerm[row] = id
		}
		lo = hi
	}
	bms := bitmapsOf(rowTerm, len(values))
	t := &IntTerms{rows: make(map[int64]*roaring.Bitmap, len(values))}
	for id, v := range values {
		t.rows[v] = bms[id]
	}
	return t
}

// bitmapsOf returns, for each term id in [0, nTerms), the bitmap of the
// rows whose rowTerm is that id. Rows are grouped by term in one flat
// array first, so each bitmap is built from an ascending list in one go.
func bitmapsOf(rowTerm []uint32, nTerms int) []*roaring.Bitmap {
	start := make([]uint32, nTerms+1)
	for _, id := range rowTerm {
		start[id+1]++
	}
	for i := 1; i <= nTerms; i++ {
		start[i] += start[i-1]
	}
	flat := make([]uint32, len(rowTerm))
	next := slices.Clone(start[:nTerms])
	for row, id := range rowTerm {
		flat[next[id]] = uint32(row)
		next[id]++
	}
	bms := make([]*roaring.Bitmap, nTerms)
	for id := range bms {
		bms[id] = bitmapOf(flat[start[id]:start[id+1]])
	}
	return bms
}

// sortedKeys returns the distinct values ascending.
func (t *IntTerms) sortedKeys() []int64 {
	keys := make([]int64, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// StrTerms is an inverted index of a string field: a sorted dictionary of
// the distinct values (term ids are positions in it), the rows of each term,
// the term of each row, and, for suffix lookups, the term ids ordered by
// their values read backwards.
type StrTerms struct {
	terms    []string
	rows     []*roaring.Bitmap
	rowTerm  []uint32
	bySuffix []uint32
}

// Len returns the number of distinct values.
func (t *StrTerms) Len() int { return len(t.terms) }

// Term returns the value of term id.
func (t *StrTerms) Term(id uint32) string { return t.terms[id] }

// Rows returns the rows of term id. Shared: read only.
func (t *StrTerms) Rows(id uint32) *roaring.Bitmap { return t.rows[id] }

// RowTerm returns the term id of row.
func (t *StrTerms) RowTerm(row uint32) uint32 { return t.rowTerm[row] }

// Lookup returns the term id of v.
func (t *StrTerms) Lookup(v string) (uint32, bool) {
	i, ok := slices.BinarySearch(t.terms, v)
	return uint32(i), ok
}

// Get returns the rows holding v, or nil. Shared: read only.
func (t *StrTerms) Get(v string) *roaring.Bitmap {
	if id, ok := t.Lookup(v); ok {
		return t.rows[id]
	}
	return nil
}

// Union returns the rows holding any of vs; possibly shared, read only.
func (t *StrTerms) Union(vs []string) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for _, v := range vs {
		if b := t.Get(v); b != nil {
			bms = append(bms, b)
		}
	}
	return union(bms)
}

// PrefixRange returns the term ids [lo, hi) whose values start with p.
func (t *StrTerms) PrefixRange(p string) (lo, hi uint32) {
	l := sort.SearchStrings(t.terms, p)
	h := l + sort.Search(len(t.terms)-l, func(i int) bool {
		return !strings.HasPrefix(t.terms[l+i], p)
	})
	return uint32(l), uint32(h)
}

// SuffixTerms returns the ids of the terms whose values end with s, in no
// particular order. The slice is shared: read only.
func (t *StrTerms) SuffixTerms(s string) []uint32 {
	ids := t.bySuffix
	l := sort.Search(len(ids), func(i int) bool { return compareReversed(t.terms[ids[i]], s) >= 0 })
	h := l + sort.Search(len(ids)-l, func(i int) bool { return !strings.HasSuffix(t.terms[ids[l+i]], s) })
	return ids[l:h]
}

// compareReversed compares a and b as if both were written backwards,
// byte by byte.
func compareReversed(a, b string) int {
	i, j := len(a)-1, len(b)-1
	for ; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
	}
	return cmp.Compare(i, j)
}

func (t *StrTerms) sizeInBytes() uint64 {
	n := uint64(len(t.rowTerm)*4 + len(t.bySuffix)*4)
	for i, term := range t.terms {
		n += t.rows[i].GetSizeInBytes() + 8 + uint64(len(term)+16)
	}
	return n
}

// buildStrTerms indexes value(row) for rows [0, n), optionally with the
// suffix order. Like buildIntTerms it works run by run.
func buildStrTerms(n int, value func(row int) string, suffixes bool) *StrTerms {
	ids := make(map[string]uint32)
	var terms []string
	rowTerm := make([]uint32, n)
	for lo := 0; lo < n; {
		v := value(lo)
		hi := lo + 1
		for hi < n && value(hi) == v {
			hi++
		}
		id, ok := ids[v]
		if !ok {
			id = uint32(len(terms))
			ids[v] = id
			terms = append(terms, v)
		}
		for row := lo; row < hi; row++ {
			rowTerm[row] = id
		}
		lo = hi
	}
	// Renumber terms in sorted order so that term ids compare like values.
	order := make([]uint32, len(terms))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(terms[a], terms[b]) })
	newID := make([]uint32, len(terms))
	sorted := make([]string, len(terms))
	for pos, old := range order {
		newID[old] = uint32(pos)
		sorted[pos] = terms[old]
	}
	for row, id := range rowTerm {
		rowTerm[row] = newID[id]
	}
	t := &StrTerms{terms: sorted, rowTerm: rowTerm, rows: bitmapsOf(rowTerm, len(sorted))}
	if suffixes {
		t.bySuffix = make([]uint32, len(sorted))
		for i := range t.bySuffix {
			t.bySuffix[i] = uint32(i)
		}
		slices.SortFunc(t.bySuffix, func(a, b uint32) int { return compareReversed(sorted[a], sorted[b]) })
	}
	return t
}

func bitmapOf(rows []uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddMany(rows)
	b.RunOptimize()
	return b
}

// union ORs bms; with one input it returns that input itself.
func union(bms []*roaring.Bitmap) *roaring.Bitmap {
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0]
	}
	return roaring.FastOr(bms...)
}
