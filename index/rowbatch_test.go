package index

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// randomRows returns n random rows of ix, with repeats and runs of
// neighbours, as a page's rows may come.
func randomRows(rnd *rand.Rand, ix *Index, n int) []uint32 {
	rows := make([]uint32, n)
	for i := range rows {
		switch {
		case i > 0 && rnd.IntN(4) == 0:
			rows[i] = rows[rnd.IntN(i)]
		case i > 0 && rnd.IntN(4) == 0:
			rows[i] = min(rows[i-1]+1, uint32(ix.Len()-1))
		default:
			rows[i] = uint32(rnd.IntN(ix.Len()))
		}
	}
	return rows
}

// checkRowsJSON fails unless AppendRowsJSON writes lists of random rows
// of ix (of every length around a batch's, with repeats), with every
// projection, as AppendRowJSON and record.AppendJSON write them one by
// one, separated by commas.
func checkRowsJSON(t *testing.T, ix *Index, rnd *rand.Rand) {
	t.Helper()
	var want, viaRecord, got []byte
	for _, s := range projections(rnd) {
		for _, n := range []int{0, 1, 2, batchRows - 1, batchRows, batchRows + 1, 3*batchRows + 5, 200} {
			rows := randomRows(rnd, ix, n)
			want, viaRecord = append(want[:0], 'x'), append(viaRecord[:0], 'x')
			for i, row := range rows {
				if i > 0 {
					want, viaRecord = append(want, ','), append(viaRecord, ',')
				}
				want = ix.AppendRowJSON(want, row, s)
				viaRecord = ix.Record(row).AppendJSON(viaRecord, s)
			}
			got = ix.AppendRowsJSON(append(got[:0], 'x'), rows, s)
			if !bytes.Equal(got, want) || !bytes.Equal(want, viaRecord) {
				t.Fatalf("rows %v fields %b:\n got %s\nwant %s\nrecords %s", rows, s, got, want, viaRecord)
			}
		}
	}
}

// TestAppendRowsJSON checks the batch writer against the row writer and
// against record.AppendJSON of the materialized records, on the data sets
// of TestAppendRowJSON, before and after status batches that set
// proc_inst_infos lists.
func TestAppendRowsJSON(t *testing.T) { checkEachCase(t, 29, checkRowsJSON) }
