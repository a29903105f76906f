package index

import (
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

func buildIntTerms(n int, value func(row int) int64) *IntTerms {
	lists := make(map[int64][]uint32)
	for row := range n {
		v := value(row)
		lists[v] = append(lists[v], uint32(row))
	}
	t := &IntTerms{rows: make(map[int64]*roaring.Bitmap, len(lists))}
	for v, rows := range lists {
		t.rows[v] = bitmapOf(rows)
	}
	return t
}

// StrTerms is an inverted index of a string field: a sorted dictionary of
// the distinct values (term ids are positions in it), the rows of each term,
// the term of each row, and the dictionary sorted by reversed value for
// suffix lookups.
type StrTerms struct {
	terms   []string
	ids     map[string]uint32
	rows    []*roaring.Bitmap
	rowTerm []uint32
	// bySuffix lists term ids ordered by their reversed value; revTerms
	// holds those reversed values in the same order.
	bySuffix []uint32
	revTerms []string
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
	id, ok := t.ids[v]
	return id, ok
}

// Get returns the rows holding v, or nil. Shared: read only.
func (t *StrTerms) Get(v string) *roaring.Bitmap {
	if id, ok := t.ids[v]; ok {
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
	r := reverse(s)
	l := sort.SearchStrings(t.revTerms, r)
	h := l + sort.Search(len(t.revTerms)-l, func(i int) bool {
		return !strings.HasPrefix(t.revTerms[l+i], r)
	})
	return t.bySuffix[l:h]
}

func (t *StrTerms) sizeInBytes() uint64 {
	n := uint64(len(t.rowTerm)*4 + len(t.bySuffix)*4)
	for i, term := range t.terms {
		n += t.rows[i].GetSizeInBytes() + 8 + uint64(2*len(term)+2*16) + 16
	}
	return n
}

// reverse reverses s byte by byte: for suffix order only, never shown.
func reverse(s string) string {
	b := make([]byte, len(s))
	for i := range len(s) {
		b[len(s)-1-i] = s[i]
	}
	return string(b)
}

func buildStrTerms(n int, value func(row int) string, suffixes bool) *StrTerms {
	ids := make(map[string]uint32)
	var terms []string
	rowTerm := make([]uint32, n)
	for row := range n {
		v := value(row)
		id, ok := ids[v]
		if !ok {
			id = uint32(len(terms))
			ids[v] = id
			terms = append(terms, v)
		}
		rowTerm[row] = id
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
		ids[terms[old]] = uint32(pos)
	}
	lists := make([][]uint32, len(terms))
	for row := range rowTerm {
		id := newID[rowTerm[row]]
		rowTerm[row] = id
		lists[id] = append(lists[id], uint32(row))
	}
	t := &StrTerms{terms: sorted, ids: ids, rowTerm: rowTerm, rows: make([]*roaring.Bitmap, len(terms))}
	for id, rows := range lists {
		t.rows[id] = bitmapOf(rows)
	}
	if suffixes {
		t.bySuffix = make([]uint32, len(sorted))
		rev := make([]string, len(sorted))
		for i := range t.bySuffix {
			t.bySuffix[i] = uint32(i)
			rev[i] = reverse(sorted[i])
		}
		slices.SortFunc(t.bySuffix, func(a, b uint32) int { return strings.Compare(rev[a], rev[b]) })
		t.revTerms = make([]string, len(rev))
		for i, id := range t.bySuffix {
			t.revTerms[i] = rev[id]
		}
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
