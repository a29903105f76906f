package engine

import (
	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// This file holds the two edges of a page: the envelope writes its base
// rows straight from the index's columns (pageItems); Query alone turns
// them into records (records).

// baseHits returns the hits of base rows.
func baseHits(rows []uint32) []hit {
	hits := make([]hit, len(rows))
	for i, row := range rows {
		hits[i] = hit{row: int64(row)}
	}
	return hits
}

// pageItems writes a page's items: a delta record by record.AppendJSON,
// a base row by index.AppendRowJSON, which writes the same bytes without
// building a record (BenchmarkDoPage).
type pageItems struct {
	ix   *index.Index
	hits []hit
}

func (p pageItems) Len() int { return len(p.hits) }

func (p pageItems) AppendItem(b []byte, i int, fields record.FieldSet) []byte {
	if h := p.hits[i]; h.rec != nil {
		return h.rec.AppendJSON(b, fields)
	}
	return p.ix.AppendRowJSON(b, uint32(p.hits[i].row), fields)
}

// records returns the records of hits, the base rows materialized as one
// batch (index.Records).
func (e *Engine) records(hits []hit) []*record.Record {
	if len(hits) == 0 {
		return nil
	}
	e.materialize(hits)
	out := make([]*record.Record, len(hits))
	for i, h := range hits {
		out[i] = h.rec
	}
	return out
}
