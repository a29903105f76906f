package index

import (
	"fmt"
	"io"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// The image of an Index is everything Build computes, so that reading it
// back is copying, not building: a MessagePack array
//
//	[rows int, section bin, section bin, ...]
//
// of the sections below, in this order, each one MessagePack value (an
// array) inside a bin, so that a reader finds every section without
// decoding the others and decodes them in parallel. Columns of integers
// are bins of little-endian values; bitmaps are bins of roaring's
// portable serialization.
//
//	meta        row ids by business and bk_process_id
//	scalars     the record columns no index holds (recColumns)
//	configs     config_templates lists
//	infos       proc_inst_infos lists as of the build
//	status      the status, is_auto and proc_inst_infos columns
//	int terms   set, module, service instance, cloud, status, is_auto
//	str terms   set env, set, module, service and process names, IP,
//	            cloud name: dictionaries, trigrams, postings, suffix orders
//	orders      one per sort key: permutation, ranks, group starts, blocks
//
// docs/ARCHITECTURE.md (snapshot v2) lists each section's fields.

// section is one part of the image: how to write it from an index and
// how to read it into one.
type section struct {
	name  string
	write func(ix *Index, w *imgWriter)
	read  func(ix *Index, r *imgReader)
}

// sections returns the sections of the image, in order.
func sections() []section {
	s := []section{
		{"meta", (*Index).writeMeta, (*Index).readMeta},
		{"scalars", (*Index).writeScalars, (*Index).readScalars},
		{"configs", (*Index).writeConfigs, (*Index).readConfigs},
		{"infos", (*Index).writeInfos, (*Index).readInfos},
		{"status", (*Index).writeStatus, (*Index).readStatus},
	}
	for _, f := range intTermFields() {
		s = append(s, section{
			"int terms",
			func(ix *Index, w *imgWriter) { w.intTerms(*f(ix)) },
			func(ix *Index, r *imgReader) { *f(ix) = r.intTerms(ix.n) },
		})
	}
	for _, f := range strTermFields() {
		s = append(s, section{
			"str terms",
			func(ix *Index, w *imgWriter) { w.strTerms(*f(ix)) },
			func(ix *Index, r *imgReader) { *f(ix) = r.strTerms(ix.n) },
		})
	}
	for k := range NumKeys {
		s = append(s, section{
			"order",
			func(ix *Index, w *imgWriter) { w.order(&ix.orders[k], k != KeyProcessName) },
			func(ix *Index, r *imgReader) { ix.orders[k] = r.order(ix.n, k != KeyProcessName) },
		})
	}
	return s
}

func intTermFields() []func(*Index) **IntTerms {
	return []func(*Index) **IntTerms{
		func(ix *Index) **IntTerms { return &ix.SetID },
		func(ix *Index) **IntTerms { return &ix.ModuleID },
		func(ix *Index) **IntTerms { return &ix.ServiceInstanceID },
		func(ix *Index) **IntTerms { return &ix.CloudID },
		func(ix *Index) **IntTerms { return &ix.Status },
		func(ix *Index) **IntTerms { return &ix.IsAuto },
	}
}

func strTermFields() []func(*Index) **StrTerms {
	return []func(*Index) **StrTerms{
		func(ix *Index) **StrTerms { return &ix.Env },
		func(ix *Index) **StrTerms { return &ix.SetName },
		func(ix *Index) **StrTerms { return &ix.ModuleName },
		func(ix *Index) **StrTerms { return &ix.ServiceName },
		func(ix *Index) **StrTerms { return &ix.ProcessName },
		func(ix *Index) **StrTerms { return &ix.InnerIP },
		func(ix *Index) **StrTerms { return &ix.CloudName },
	}
}

// WriteImage writes the image of ix to w, one section at a time; stop,
// when not nil, is asked between sections and its error ends the write.
// It waits for the suffix orders Build sorts in the background, which the
// image holds.
func (ix *Index) WriteImage(w io.Writer, stop func() error) error {
	secs := sections()
	head := imgWriter{}
	head.array(1 + len(secs))
	head.uint(uint64(ix.n))
	if _, err := w.Write(head.buf); err != nil {
		return err
	}
	var body imgWriter
	for _, s := range secs {
		if stop != nil {
			if err := stop(); err != nil {
				return err
			}
		}
		body.buf = body.buf[:0]
		s.write(ix, &body)
		head.buf = head.buf[:0]
		head.binHeader(len(body.buf))
		if _, err := w.Write(head.buf); err != nil {
			return err
		}
		if _, err := w.Write(body.buf); err != nil {
			return err
		}
	}
	return nil
}

// ReadImage returns the index whose image is data (WriteImage). The index
// shares no memory with data. The sections are decoded on two goroutines.
// Every length and every row, term and position is checked against what
// the image holds, so that a malformed image is an error, never a panic or
// an allocation out of proportion to data; a duplicate bk_process_id is
// not an error here (DuplicateProcess).
func ReadImage(data []byte) (*Index, error) { return ReadImageDone(data, nil) }

// ReadImageDone is ReadImage that calls done, when not nil, with the bytes
// of each section of data once they are decoded and no longer read, from
// the goroutine that decoded them: a caller reading a memory map releases
// its pages there, so that the map and the index are not both resident.
func ReadImageDone(data []byte, done func(section []byte)) (*Index, error) {
	secs := sections()
	r := &imgReader{b: data}
	r.array(1+len(secs), "image")
	// A row takes at least four bytes of each order's permutation.
	n := r.bounded(uint64(len(data)/4), "rows")
	bodies := make([][]byte, len(secs))
	for i := range bodies {
		bodies[i] = r.bin()
	}
	if r.err == nil && len(r.b) != 0 {
		r.failf("%d bytes after the last section", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	ix := &Index{n: n}
	errs := make([]error, len(secs))
	next := make(chan int, len(secs))
	for i := range secs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := range next {
				sr := &imgReader{b: bodies[i]}
				secs[i].read(ix, sr)
				if done != nil {
					done(bodies[i])
				}
				if sr.err == nil && len(sr.b) != 0 {
					sr.failf("%d bytes after the section", len(sr.b))
				}
				if sr.err != nil {
					errs[i] = fmt.Errorf("section %d (%s): %w", i, secs[i].name, sr.err)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ix.link(); err != nil {
		return nil, err
	}
	buildPrefixesLater(ix)
	buildShortGramsLater(ix)
	ix.verbatim = &verbatimCell{done: make(chan struct{})}
	go ix.verbatim.find(ix)
	return ix, nil
}

// link fills what the sections share or imply, once all are read, and
// checks the references between sections.
func (ix *Index) link() error {
	r := &imgReader{}
	rc := &ix.rc
	rc.pidRank = ix.orders[KeyProcessID].Rank
	rc.setTerm = ix.orders[KeySetID].Rank
	rc.moduleTerm = ix.orders[KeyModuleID].Rank
	ix.orders[KeyProcessName].Rank = ix.ProcessName.rowTerm
	below(r, rc.pidRank, uint64(len(ix.pids)), "process ranks")
	below(r, rc.setTerm, uint64(ix.SetID.Len()), "set ranks")
	below(r, rc.moduleTerm, uint64(ix.ModuleID.Len()), "module ranks")
	for i := range ix.n {
		if rc.cloud.get(i) >= uint64(ix.CloudID.Len()) || rc.svcInst.get(i) >= uint64(ix.ServiceInstanceID.Len()) {
			r.failf("row %d: cloud or service instance term out of range", i)
			break
		}
	}
	if r.err != nil {
		return r.err
	}
	ix.biz, ix.bizRows = make(map[int64]Span, len(rc.bizLo)), make(map[int64]*roaring.Bitmap, len(rc.bizLo))
	for i, lo := range rc.bizLo {
		hi := uint32(ix.n)
		if i+1 < len(rc.bizLo) {
			hi = rc.bizLo[i+1]
		}
		b := roaring.New()
		b.AddRange(uint64(lo), uint64(hi))
		ix.biz[rc.bizID[i]], ix.bizRows[rc.bizID[i]] = Span{lo, hi}, b
	}
	return nil
}
