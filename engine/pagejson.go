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
// each run of base rows by index.AppendRowsJSON, which writes the bytes
// of the rows' records without building them, reading the columns a
// batch of rows at a time (BenchmarkDoPage).
type pageItems struct {
	ix   *index.Index
	hits []hit
}

// pageRun is how many base rows pageItems hands AppendRowsJSON at once.
const pageRun = 64

func (p pageItems) AppendItems(b []byte, fields record.FieldSet) []byte {
	var run [pageRun]uint32
	for i := 0; i < len(p.hits); {
		if i > 0 {
			b = append(b, ',')
		}
		if h := p.hits[i]; h.rec != nil {
			b = h.rec.AppendJSON(b, fields)
			i++
			continue
		}
		n := 0
		for ; i < len(p.hits) && p.hits[i].rec == nil && n < pageRun; i++ {
			run[n] = uint32(p.hits[i].row)
			n++
		}
		b = p.ix.AppendRowsJSON(b, run[:n], fields)
	}
	return b
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
