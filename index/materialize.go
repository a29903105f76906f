package index

import (
	"unsafe"

	"github.com/procq/procq/record"
)

// Record returns a new record of row built from the columns, with its
// current process_status, is_auto and proc_inst_infos. Its strings share
// the index's dictionaries (immutable strings); its lists are its own
// except a proc_inst_infos list set by a status update, which is shared:
// read it only.
func (ix *Index) Record(row uint32) *record.Record { return ix.Records([]uint32{row})[0] }

// Records returns new records of rows, as Record does, in the order of
// rows. The records of one call share a few blocks of memory (the
// records, the list items, the derived expressions), so that a page costs
// a handful of allocations rather than several per row.
func (ix *Index) Records(rows []uint32) []*record.Record {
	rc := &ix.rc
	var nct, npi int
	for _, row := range rows {
		lo, hi, _ := rc.ct.span(int(row))
		nct += hi - lo
		if _, set := ix.cols.infosOf(row); !set {
			lo, hi, _ = rc.pi.span(int(row))
			npi += hi - lo
		}
	}
	recs := make([]record.Record, len(rows))
	out := make([]*record.Record, len(rows))
	cts := make([]record.ConfigTemplate, nct)
	pis := make([]record.ProcInstInfo, npi)
	exprLen := 0
	for i, row := range rows {
		r := &recs[i]
		out[i] = r
		ix.RecordScalars(row, r)
		r.ConfigTemplates, cts = rc.ct.take(int(row), cts)
		if infos, set := ix.cols.infosOf(row); set {
			r.ProcInstInfos = infos
		} else {
			r.ProcInstInfos, pis = rc.pi.take(int(row), r.ProcessID, pis)
		}
		if rc.derived.has(int(row)) {
			exprLen += r.DerivedExpressionLen()
		} else {
			r.Expression = rc.expr.get(int(row))
		}
	}
	// The derived expressions share one block of exactly their size: it
	// never moves, and each part is written once before a string points
	// at it and never after, as unsafe.String requires.
	exprs := make([]byte, 0, exprLen)
	for i, row := range rows {
		if rc.derived.has(int(row)) {
			start := len(exprs)
			exprs = recs[i].AppendDerivedExpression(exprs)
			recs[i].Expression = unsafe.String(&exprs[start], len(exprs)-start)
		}
	}
	return out
}

// RecordScalars sets every field of r but the expression and the lists
// to those of row, allocating nothing (the strings share the index's
// dictionaries): what comparing a row with a record needs.
func (ix *Index) RecordScalars(row uint32, r *record.Record) {
	rc, i := &ix.rc, int(row)
	*r = record.Record{
		ID:                rc.id.get(i),
		BizID:             rc.bizOfRow(row),
		CloudID:           ix.CloudID.values[rc.cloud.get(i)],
		SetID:             ix.SetID.values[rc.setTerm[i]],
		ModuleID:          ix.ModuleID.values[rc.moduleTerm[i]],
		ServiceInstanceID: ix.ServiceInstanceID.values[rc.svcInst.get(i)],
		ProcessID:         ix.ProcessID(row),
		ProcessTemplateID: rc.procTmpl.get(i),
		ProcessStatus:     ix.cols.statusOf(row),
		IsAuto:            ix.cols.autoOf(row),

		InnerIP:     ix.InnerIP.Term(ix.InnerIP.rowTerm[i]),
		InnerIPv6:   rc.ipv6.get(i),
		AgentID:     rc.agent.get(i),
		CloudName:   ix.CloudName.Term(ix.CloudName.rowTerm[i]),
		SetEnv:      ix.Env.Term(ix.Env.rowTerm[i]),
		SetName:     ix.SetName.Term(ix.SetName.rowTerm[i]),
		ModuleName:  ix.ModuleName.Term(ix.ModuleName.rowTerm[i]),
		ServiceName: ix.ServiceName.Term(ix.ServiceName.rowTerm[i]),
		ProcessName: ix.ProcessName.Term(ix.ProcessName.rowTerm[i]),
	}
	if rc.hasSvcTmpl.has(i) {
		r.ServiceTemplateID, r.HasServiceTemplate = rc.svcTmpl.get(i), true
	}
}

// take returns the config_templates list of row carved from the front of
// buf, and the rest of buf.
func (c *configCols) take(row int, buf []record.ConfigTemplate) (l, rest []record.ConfigTemplate) {
	lo, hi, isNil := c.span(row)
	if isNil {
		return nil, buf
	}
	l, rest = buf[:hi-lo:hi-lo], buf[hi-lo:]
	for k := range l {
		l[k] = record.ConfigTemplate{ConfigTemplateID: c.id.get(lo + k), TemplateName: c.tmpl.get(lo + k), FileName: c.file.get(lo + k)}
	}
	return l, rest
}

// take returns the build-time proc_inst_infos list of row, whose
// bk_process_id is pid, carved from the front of buf, and the rest of buf.
func (c *infoCols) take(row int, pid int64, buf []record.ProcInstInfo) (l, rest []record.ProcInstInfo) {
	lo, hi, isNil := c.span(row)
	if isNil {
		return nil, buf
	}
	l, rest = buf[:hi-lo:hi-lo], buf[hi-lo:]
	for k := range l {
		j := lo + k
		l[k] = record.ProcInstInfo{ProcessID: pid + c.pidDelta.get(j), LocalInstID: c.local.get(j),
			InstID: c.inst.get(j), ProcessStatus: c.status.get(j), IsAuto: c.auto.has(j)}
	}
	return l, rest
}
