package index

import "github.com/procq/procq/record"

// batchRows is how many rows AppendRowsJSON reads from the columns before
// it writes any. The rows of a page are scattered over columns of a
// million rows, so each value read is a cache miss: read one column for
// every row of a batch in a tight loop, the misses of the batch overlap
// instead of waiting one after the other behind the writing of each row.
// At 1M rows, two runs of
// PROCQ_BENCH_PROCESSES=1000000 go test ./index -run '^$' -bench 'PageJSON/1000/(columns|batch)' -benchtime 300x
// gave 977-1245 us for "columns" (AppendRowJSON row by row) and 603-654
// us for "batch" (cpu-ns/op); AppendRowJSON also lays out the fields for
// each row, so not all of the difference is the overlap.
// 32 rows keep a batch (rowBatch, 11.8 KB) on the stack and in the
// first-level cache. 16 and 64 were not shown better or worse: two
// alternated runs each of
// PROCQ_BENCH_PROCESSES=1000000 go test ./index -run '^$' -bench 'PageJSON/1000/batch' -benchtime 300x
// with batchRows 16, 32 and 64 gave 608-699, 598-714 and 496-814 us
// (cpu-ns/op) on a shared 2-core machine, inside each other's noise.
const batchRows = 32

// rowBatch holds what the rows of a batch read from the columns, ready to
// be written: their scalars as records (and the expressions rows have of
// their own), and their lists' places.
type rowBatch struct {
	rows  []uint32
	recs  [batchRows]record.Record
	lists [batchRows]rowLists
	// sink keeps the loads of touch, which only warm the cache.
	sink uint64
}

// rowLists is what writing a row takes besides its scalars: whether its
// expression is derived, and where its lists are.
type rowLists struct {
	derived bool
	// ctLo, ctHi and piLo, piHi are the row's items in the
	// config_templates and build-time proc_inst_infos columns.
	ctLo, ctHi, piLo, piHi int
	// infos is the proc_inst_infos list a status update set, if infosSet.
	infos    []record.ProcInstInfo
	infosSet bool
}

// AppendRowsJSON appends the JSON objects of rows, separated by commas,
// each holding the fields of s (all when s is zero): the bytes
// AppendRowJSON writes for each row, read a batch of rows at a time
// (batchRows), allocating nothing.
func (ix *Index) AppendRowsJSON(b []byte, rows []uint32, s record.FieldSet) []byte {
	s = s.OrAll()
	l, need := newJSONLayout(s, ix.verbatim.get()), needs(s)
	var bt rowBatch
	for k := 0; k < len(rows); k += batchRows {
		bt.rows = rows[k:min(k+batchRows, len(rows))]
		ix.gatherInts(&bt, need)
		ix.gatherStrings(&bt, need)
		ix.gatherLists(&bt, s)
		ix.touch(&bt, s)
		for j := range bt.rows {
			if k+j > 0 {
				b = append(b, ',')
			}
			b = ix.appendRow(b, &l, &bt.recs[j], &bt.lists[j])
		}
	}
	return b
}

// needs returns the scalar fields that writing the fields of s reads: a
// derived expression is made of the names and bk_process_id, and the
// build's proc_inst_infos hold bk_process_id as a delta.
func needs(s record.FieldSet) record.FieldSet {
	if s.Has(record.FieldExpression) {
		s |= derivedNames.With(record.FieldProcessID)
	}
	if s.Has(record.FieldProcInstInfos) {
		s = s.With(record.FieldProcessID)
	}
	return s
}

// derivedNames are the names a derived expression joins.
var derivedNames = record.FieldSet(0).With(record.FieldSetName).With(record.FieldModuleName).
	With(record.FieldServiceName).With(record.FieldProcessName)

// gatherInts reads the integer fields of need of the rows of bt, one
// column at a time, as RecordScalars reads them.
func (ix *Index) gatherInts(bt *rowBatch, need record.FieldSet) {
	rc, recs := &ix.rc, &bt.recs
	if need.Has(record.FieldID) {
		for j, row := range bt.rows {
			recs[j].ID = rc.id.get(int(row))
		}
	}
	if need.Has(record.FieldBizID) {
		for j, row := range bt.rows {
			recs[j].BizID = rc.bizOfRow(row)
		}
	}
	if need.Has(record.FieldCloudID) {
		for j, row := range bt.rows {
			recs[j].CloudID = ix.CloudID.values[rc.cloud.get(int(row))]
		}
	}
	if need.Has(record.FieldSetID) {
		for j, row := range bt.rows {
			recs[j].SetID = ix.SetID.values[rc.setTerm[row]]
		}
	}
	if need.Has(record.FieldModuleID) {
		for j, row := range bt.rows {
			recs[j].ModuleID = ix.ModuleID.values[rc.moduleTerm[row]]
		}
	}
	if need.Has(record.FieldServiceTemplateID) {
		for j, row := range bt.rows {
			recs[j].ServiceTemplateID, recs[j].HasServiceTemplate = 0, rc.hasSvcTmpl.has(int(row))
			if recs[j].HasServiceTemplate {
				recs[j].ServiceTemplateID = rc.svcTmpl.get(int(row))
			}
		}
	}
	if need.Has(record.FieldServiceInstanceID) {
		for j, row := range bt.rows {
			recs[j].ServiceInstanceID = ix.ServiceInstanceID.values[rc.svcInst.get(int(row))]
		}
	}
	if need.Has(record.FieldProcessID) {
		for j, row := range bt.rows {
			recs[j].ProcessID = ix.ProcessID(row)
		}
	}
	if need.Has(record.FieldProcessTemplateID) {
		for j, row := range bt.rows {
			recs[j].ProcessTemplateID = rc.procTmpl.get(int(row))
		}
	}
	if need.Has(record.FieldProcessStatus) {
		for j, row := range bt.rows {
			recs[j].ProcessStatus = ix.cols.statusOf(row)
		}
	}
	if need.Has(record.FieldIsAuto) {
		for j, row := range bt.rows {
			recs[j].IsAuto = ix.cols.autoOf(row)
		}
	}
}

// gatherStrings reads the string fields of need of the rows of bt, one
// column at a time.
func (ix *Index) gatherStrings(bt *rowBatch, need record.FieldSet) {
	rc, recs := &ix.rc, &bt.recs
	terms := func(f record.Field, t *StrTerms, field func(*record.Record) *string) {
		if need.Has(f) {
			for j, row := range bt.rows {
				*field(&recs[j]) = t.terms[t.rowTerm[row]]
			}
		}
	}
	terms(record.FieldInnerIP, ix.InnerIP, func(r *record.Record) *string { return &r.InnerIP })
	terms(record.FieldCloudName, ix.CloudName, func(r *record.Record) *string { return &r.CloudName })
	terms(record.FieldSetEnv, ix.Env, func(r *record.Record) *string { return &r.SetEnv })
	terms(record.FieldSetName, ix.SetName, func(r *record.Record) *string { return &r.SetName })
	terms(record.FieldModuleName, ix.ModuleName, func(r *record.Record) *string { return &r.ModuleName })
	terms(record.FieldServiceName, ix.ServiceName, func(r *record.Record) *string { return &r.ServiceName })
	terms(record.FieldProcessName, ix.ProcessName, func(r *record.Record) *string { return &r.ProcessName })
	if need.Has(record.FieldInnerIPv6) {
		for j, row := range bt.rows {
			recs[j].InnerIPv6 = rc.ipv6.get(int(row))
		}
	}
	if need.Has(record.FieldAgentID) {
		for j, row := range bt.rows {
			recs[j].AgentID = rc.agent.get(int(row))
		}
	}
}

// gatherLists reads where the lists of the rows of bt are, and their
// expressions, for the fields of s.
func (ix *Index) gatherLists(bt *rowBatch, s record.FieldSet) {
	rc := &ix.rc
	if s.Has(record.FieldExpression) {
		for j, row := range bt.rows {
			bt.lists[j].derived = rc.derived.has(int(row))
			if !bt.lists[j].derived {
				bt.recs[j].Expression = rc.expr.get(int(row))
			}
		}
	}
	if s.Has(record.FieldConfigTemplates) {
		for j, row := range bt.rows {
			bt.lists[j].ctLo, bt.lists[j].ctHi, _ = rc.ct.span(int(row))
		}
	}
	if s.Has(record.FieldProcInstInfos) {
		for j, row := range bt.rows {
			l := &bt.lists[j]
			l.infos, l.infosSet = ix.cols.infosOf(row)
			l.piLo, l.piHi, _ = rc.pi.span(int(row))
		}
	}
}

// touch reads the first byte of each string of the fields of s and the
// first item of each list of the rows of bt, so that the misses of the
// batch overlap here rather than one at a time as the rows are written.
func (ix *Index) touch(bt *rowBatch, s record.FieldSet) {
	var x uint64
	first := func(t string) {
		if len(t) > 0 {
			x += uint64(t[0])
		}
	}
	for j := range bt.rows {
		r, l := &bt.recs[j], &bt.lists[j]
		first(r.InnerIP)
		first(r.InnerIPv6)
		first(r.AgentID)
		first(r.CloudName)
		first(r.SetName)
		first(r.ModuleName)
		first(r.ServiceName)
		first(r.ProcessName)
		first(r.Expression)
		if s.Has(record.FieldConfigTemplates) && l.ctHi > l.ctLo {
			x += ix.rc.ct.id.off.get(l.ctLo) + ix.rc.ct.tmpl.codes.get(l.ctLo) + ix.rc.ct.file.codes.get(l.ctLo)
		}
		if s.Has(record.FieldProcInstInfos) && !l.infosSet && l.piHi > l.piLo {
			c := &ix.rc.pi
			x += c.pidDelta.off.get(l.piLo) + c.local.off.get(l.piLo) + c.inst.off.get(l.piLo) + c.status.off.get(l.piLo)
		}
	}
	bt.sink += x
}
