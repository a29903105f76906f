package index

import (
	"sort"

	"github.com/procq/procq/record"
)

// recColumns holds the fields of every row that no index already holds,
// as columns of narrow integers and dictionary codes (see Index.Record).
// The other fields are read from the indexes: names, IPs and set env from
// their StrTerms, set and module ids from their ranks, bk_process_id from
// the id order, status and is_auto from the status columns.
type recColumns struct {
	id, procTmpl, svcTmpl ints
	hasSvcTmpl            bits
	// cloud and svcInst are term ids into CloudID and ServiceInstanceID.
	cloud, svcInst uints
	// derived marks rows whose expression is their DerivedExpression; the
	// others are in expr.
	derived           bits
	expr, ipv6, agent dict

	// bizLo holds the first row of each business, ascending; bizID its id.
	bizLo []uint32
	bizID []int64
	// setTerm, moduleTerm and pidRank are shared with the orders.
	setTerm, moduleTerm, pidRank []uint32
	// pidByRow holds bk_process_id by row when two rows share one
	// (pidRank cannot tell them apart), otherwise nil.
	pidByRow []int64

	ct configCols
	pi infoCols
}

// lists holds, for each row, the end of its items in flat item columns,
// and whether its list is nil rather than empty (the records say so; the
// JSON does not, but a record read back equals the one built).
type lists struct {
	ends uints
	nils bits
}

func (l *lists) span(row int) (lo, hi int, isNil bool) {
	if row > 0 {
		lo = int(l.ends.get(row - 1))
	}
	return lo, int(l.ends.get(row)), l.nils.has(row)
}

func (l *lists) sizeInBytes() uint64 { return l.ends.sizeInBytes() + l.nils.sizeInBytes() }

// listBuilder collects the list shapes of rows in order.
type listBuilder struct {
	ends []uint64
	nils bits
}

func (b *listBuilder) add(row, n int, isNil bool) {
	if isNil {
		b.nils.set(row)
	}
	end := uint64(n)
	if len(b.ends) > 0 {
		end += b.ends[len(b.ends)-1]
	}
	b.ends = append(b.ends, end)
}

// items returns the number of items of the rows added.
func (b *listBuilder) items() int {
	if len(b.ends) == 0 {
		return 0
	}
	return int(b.ends[len(b.ends)-1])
}

func (b *listBuilder) finish() lists { return lists{ends: packUints(b.ends), nils: b.nils} }

// configCols holds the config_templates lists of every row.
type configCols struct {
	lists
	id         ints
	tmpl, file dict
}

// infoCols holds the proc_inst_infos lists of every row as of the build;
// status updates set newer lists in the status columns.
type infoCols struct {
	lists
	// pidDelta is an item's bk_process_id minus its row's: zero, and so
	// free, when they agree.
	pidDelta, local, inst, status ints
	auto                          bits
}

// buildConfigs returns the config_templates columns of recs: one pass
// for the shapes and ranges, one to fill the columns.
func buildConfigs(recs []*record.Record) configCols {
	lb := listBuilder{ends: make([]uint64, 0, len(recs)), nils: newBits(len(recs))}
	var idr intRange
	for row, r := range recs {
		lb.add(row, len(r.ConfigTemplates), r.ConfigTemplates == nil)
		for _, c := range r.ConfigTemplates {
			idr.see(c.ConfigTemplateID)
		}
	}
	items := lb.items()
	c := configCols{lists: lb.finish(), id: idr.newInts(items)}
	tmpl := dictBuilder{codes: make([]uint32, 0, items)}
	file := dictBuilder{codes: make([]uint32, 0, items)}
	j := 0
	for _, r := range recs {
		for _, t := range r.ConfigTemplates {
			c.id.set(j, t.ConfigTemplateID)
			tmpl.add(t.TemplateName)
			file.add(t.FileName)
			j++
		}
	}
	c.tmpl, c.file = tmpl.finish(), file.finish()
	return c
}

// buildInfos returns the proc_inst_infos columns of recs: one pass for the
// shapes and ranges, one to fill the columns.
func buildInfos(recs []*record.Record) infoCols {
	lb := listBuilder{ends: make([]uint64, 0, len(recs)), nils: newBits(len(recs))}
	var pid, local, inst, status intRange
	for row, r := range recs {
		lb.add(row, len(r.ProcInstInfos), r.ProcInstInfos == nil)
		for _, p := range r.ProcInstInfos {
			pid.see(p.ProcessID - r.ProcessID)
			local.see(p.LocalInstID)
			inst.see(p.InstID)
			status.see(p.ProcessStatus)
		}
	}
	n := lb.items()
	c := infoCols{lists: lb.finish(), pidDelta: pid.newInts(n), local: local.newInts(n),
		inst: inst.newInts(n), status: status.newInts(n), auto: newBits(n)}
	j := 0
	for _, r := range recs {
		for _, p := range r.ProcInstInfos {
			c.pidDelta.set(j, p.ProcessID-r.ProcessID)
			c.local.set(j, p.LocalInstID)
			c.inst.set(j, p.InstID)
			c.status.set(j, p.ProcessStatus)
			if p.IsAuto {
				c.auto.set(j)
			}
			j++
		}
	}
	return c
}

// build fills the columns of rc that Build does not fill from the
// indexes, on goroutines started by run.
func (rc *recColumns) build(run func(func()), recs []*record.Record) {
	run(func() { rc.buildScalars(recs) })
	run(func() { rc.buildStrings(recs) })
	run(func() { rc.ct = buildConfigs(recs) })
	run(func() { rc.pi = buildInfos(recs) })
}

// buildScalars fills the scalar columns of rc from recs.
func (rc *recColumns) buildScalars(recs []*record.Record) {
	n := len(recs)
	var id, procTmpl, svcTmpl intRange
	for _, r := range recs {
		id.see(r.ID)
		procTmpl.see(r.ProcessTemplateID)
		if r.HasServiceTemplate {
			svcTmpl.see(r.ServiceTemplateID)
		}
	}
	rc.id, rc.procTmpl, rc.svcTmpl, rc.hasSvcTmpl = id.newInts(n), procTmpl.newInts(n), svcTmpl.newInts(n), newBits(n)
	for row, r := range recs {
		rc.id.set(row, r.ID)
		rc.procTmpl.set(row, r.ProcessTemplateID)
		if r.HasServiceTemplate {
			rc.svcTmpl.set(row, r.ServiceTemplateID)
			rc.hasSvcTmpl.set(row)
		}
	}
}

// buildStrings fills the string columns of rc that have no StrTerms.
func (rc *recColumns) buildStrings(recs []*record.Record) {
	n := len(recs)
	expr, ipv6, agent := dictBuilder{codes: make([]uint32, 0, n)}, dictBuilder{codes: make([]uint32, 0, n)}, dictBuilder{codes: make([]uint32, 0, n)}
	rc.derived = newBits(len(recs))
	for row, r := range recs {
		if r.HasDerivedExpression() {
			rc.derived.set(row)
			expr.add("")
		} else {
			expr.add(r.Expression)
		}
		ipv6.add(r.InnerIPv6)
		agent.add(r.AgentID)
	}
	rc.expr, rc.ipv6, rc.agent = expr.finish(), ipv6.finish(), agent.finish()
}

// bizOfRow returns the business id of row.
func (rc *recColumns) bizOfRow(row uint32) int64 {
	i := sort.Search(len(rc.bizLo), func(i int) bool { return rc.bizLo[i] > row })
	return rc.bizID[i-1]
}

// sizes returns the bytes of the record columns (codes and integers) and
// of their dictionaries.
func (rc *recColumns) sizes() (cols, dicts uint64) {
	cols = rc.id.sizeInBytes() + rc.procTmpl.sizeInBytes() + rc.svcTmpl.sizeInBytes() + rc.hasSvcTmpl.sizeInBytes() +
		rc.cloud.sizeInBytes() + rc.svcInst.sizeInBytes() + rc.derived.sizeInBytes() + uint64(len(rc.bizLo)*12) +
		rc.ct.sizeInBytes() + rc.ct.id.sizeInBytes() +
		rc.pi.sizeInBytes() + rc.pi.pidDelta.sizeInBytes() + rc.pi.local.sizeInBytes() + rc.pi.inst.sizeInBytes() +
		rc.pi.status.sizeInBytes() + rc.pi.auto.sizeInBytes()
	for _, d := range []*dict{&rc.expr, &rc.ipv6, &rc.agent, &rc.ct.tmpl, &rc.ct.file} {
		c, t := d.sizeInBytes()
		cols, dicts = cols+c, dicts+t
	}
	return cols, dicts
}
