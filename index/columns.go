package index

import (
	"slices"

	"github.com/procq/procq/record"
)

// The status columns are split into chunks of chunkSize rows. A status
// batch copies the slices of chunk pointers (3,907 pointers a column at 1M
// rows, 31 KB) and only the chunks it changes: a status chunk is 256 bytes
// (2 KB once wide, see statusColumn), an is_auto chunk 32 bytes. Chunks of 4096 rows made a batch of 1,000
// updates at 1M rows copy 8 MB of status chunks (every chunk touched);
// 256 rows copy 2 MB (BenchmarkWithStatus/status/1000, B/op).
const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

type (
	statusChunk [chunkSize]int64
	autoChunk   [chunkSize / 64]uint64
)

// infoChunk holds the proc_inst_infos lists that status updates set on
// rows of one chunk; the other rows keep their record's list.
type infoChunk struct {
	offs  []uint16 // row offsets in the chunk, ascending
	lists [][]record.ProcInstInfo
}

// columns holds the current process_status, is_auto and proc_inst_infos of
// every row, which status updates change without copying records. Chunks
// are shared between indexes and never changed once published: a writer
// copies a chunk before patching it.
type columns struct {
	status statusColumn
	auto   []*autoChunk
	infos  []*infoChunk // nil where no row of the chunk had its list set
}

// newAutoColumn returns the is_auto chunks of rows whose term ids are
// rowTerm over the ascending values (0 for false, 1 for true).
func newAutoColumn(rowTerm []uint32, values []int64) []*autoChunk {
	chunks := make([]*autoChunk, (len(rowTerm)+chunkMask)>>chunkBits)
	for c := range chunks {
		ch := new(autoChunk)
		lo := c << chunkBits
		for i, id := range rowTerm[lo:min(lo+chunkSize, len(rowTerm))] {
			if values[id] != 0 {
				ch[i>>6] |= 1 << (i & 63)
			}
		}
		chunks[c] = ch
	}
	return chunks
}

func (c *columns) statusOf(row uint32) int64 { return c.status.get(row) }

func (c *columns) autoOf(row uint32) bool {
	return c.auto[row>>chunkBits][(row&chunkMask)>>6]&(1<<(row&63)) != 0
}

// infosOf returns the list a status update set on row, if any.
func (c *columns) infosOf(row uint32) ([]record.ProcInstInfo, bool) {
	ch := c.infos[row>>chunkBits]
	if ch == nil {
		return nil, false
	}
	i, ok := slices.BinarySearch(ch.offs, uint16(row&chunkMask))
	if !ok {
		return nil, false
	}
	return ch.lists[i], true
}

// withChunks returns columns sharing every chunk of c in new chunk-pointer
// slices, ready for patching.
func (c *columns) withChunks() columns {
	return columns{status: c.status.withChunks(), auto: slices.Clone(c.auto), infos: slices.Clone(c.infos)}
}

func (c *columns) sizeInBytes() uint64 {
	n := c.status.sizeInBytes() + uint64(len(c.auto)*(8+chunkSize/8)+len(c.infos)*8)
	for _, ch := range c.infos {
		if ch != nil {
			n += uint64(len(ch.offs)*2 + len(ch.lists)*24)
			for _, l := range ch.lists {
				n += uint64(len(l) * 40)
			}
		}
	}
	return n
}

// mergeInfos returns a new chunk holding the lists of old and those set at
// offs (ascending, distinct), the new lists winning. offs and lists are
// copied, not kept.
func mergeInfos(old *infoChunk, offs []uint16, lists [][]record.ProcInstInfo) *infoChunk {
	if old == nil {
		return &infoChunk{offs: slices.Clone(offs), lists: slices.Clone(lists)}
	}
	n := len(old.offs) + len(offs)
	m := &infoChunk{offs: make([]uint16, 0, n), lists: make([][]record.ProcInstInfo, 0, n)}
	i, j := 0, 0
	for i < len(old.offs) || j < len(offs) {
		switch {
		case j == len(offs) || (i < len(old.offs) && old.offs[i] < offs[j]):
			m.offs, m.lists = append(m.offs, old.offs[i]), append(m.lists, old.lists[i])
			i++
		default:
			if i < len(old.offs) && old.offs[i] == offs[j] {
				i++
			}
			m.offs, m.lists = append(m.offs, offs[j]), append(m.lists, lists[j])
			j++
		}
	}
	return m
}
