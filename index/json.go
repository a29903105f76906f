package index

import (
	"github.com/procq/procq/record"
)

// AppendRowJSON appends row as a JSON object holding the fields of s (all
// when s is zero): byte for byte what record.AppendJSON writes for
// ix.Record(row), with the current process_status, is_auto and
// proc_inst_infos, but read straight from the columns, so that it builds
// no record on the heap and allocates nothing. The scalars are read into
// a record on the stack first (RecordScalars: its loads are independent,
// so their cache misses overlap) and written by record's AppendFields;
// the expression and the lists are written from the columns with
// record's writers. BenchmarkPageJSON compares it with Records and
// record.AppendJSON.
func (ix *Index) AppendRowJSON(b []byte, row uint32, s record.FieldSet) []byte {
	s = s.OrAll()
	var r record.Record
	ix.RecordScalars(row, &r)
	b = append(b, '{')
	b = r.AppendFields(b, s, record.FieldID, record.FieldExpression)
	if s.Has(record.FieldExpression) {
		b = record.AppendKey(b, record.FieldExpression, s)
		b = ix.appendExpression(b, row, &r)
	}
	b = r.AppendFields(b, s, record.FieldInnerIP, record.FieldConfigTemplates)
	if s.Has(record.FieldConfigTemplates) {
		b = record.AppendKey(b, record.FieldConfigTemplates, s)
		b = ix.appendConfigs(b, row)
	}
	if s.Has(record.FieldProcInstInfos) {
		b = record.AppendKey(b, record.FieldProcInstInfos, s)
		b = ix.appendInfos(b, row, r.ProcessID)
	}
	return append(b, '}')
}

// appendExpression appends the expression of row, whose scalars are r,
// as a JSON string: its own, or the one derived from its names.
func (ix *Index) appendExpression(b []byte, row uint32, r *record.Record) []byte {
	if !ix.rc.derived.has(int(row)) {
		return record.AppendString(b, ix.rc.expr.get(int(row)))
	}
	return record.AppendDerivedExpression(b, r.SetName, r.ModuleName, r.ServiceName, r.ProcessName, r.ProcessID)
}

// appendConfigs appends the config_templates list of row.
func (ix *Index) appendConfigs(b []byte, row uint32) []byte {
	c := &ix.rc.ct
	lo, hi, _ := c.span(int(row))
	b = append(b, '[')
	for j := lo; j < hi; j++ {
		b = record.AppendConfigTemplate(b, j-lo, record.ConfigTemplate{
			ConfigTemplateID: c.id.get(j), TemplateName: c.tmpl.get(j), FileName: c.file.get(j)})
	}
	return append(b, ']')
}

// appendInfos appends the proc_inst_infos list of row, whose
// bk_process_id is pid: the one a status update set, else the build's.
func (ix *Index) appendInfos(b []byte, row uint32, pid int64) []byte {
	b = append(b, '[')
	if infos, set := ix.cols.infosOf(row); set {
		for k, p := range infos {
			b = record.AppendProcInstInfo(b, k, p)
		}
		return append(b, ']')
	}
	c := &ix.rc.pi
	lo, hi, _ := c.span(int(row))
	for j := lo; j < hi; j++ {
		b = record.AppendProcInstInfo(b, j-lo, record.ProcInstInfo{ProcessID: pid + c.pidDelta.get(j),
			LocalInstID: c.local.get(j), InstID: c.inst.get(j), ProcessStatus: c.status.get(j), IsAuto: c.auto.has(j)})
	}
	return append(b, ']')
}
