package index

import (
	"strconv"

	"github.com/procq/procq/record"
)

// AppendRowJSON appends row as a JSON object holding the fields of s (all
// when s is zero): byte for byte what record.AppendJSON writes for
// ix.Record(row), with the current process_status, is_auto and
// proc_inst_infos, but read straight from the columns, so that it builds
// no record and allocates nothing. The formatting is record's (its
// AppendKey and value writers); only where each value comes from is here.
// BenchmarkPageJSON compares the two paths.
func (ix *Index) AppendRowJSON(b []byte, row uint32, s record.FieldSet) []byte {
	s = s.OrAll()
	rc, i := &ix.rc, int(row)
	b = append(b, '{')
	for f := record.Field(0); f <= record.FieldProcInstInfos; f++ {
		if !s.Has(f) {
			continue
		}
		b = record.AppendKey(b, f, s)
		switch f {
		case record.FieldID:
			b = strconv.AppendInt(b, rc.id.get(i), 10)
		case record.FieldBizID:
			b = strconv.AppendInt(b, rc.bizOfRow(row), 10)
		case record.FieldExpression:
			b = ix.appendExpression(b, row)
		case record.FieldInnerIP:
			b = record.AppendString(b, ix.InnerIP.Term(ix.InnerIP.rowTerm[i]))
		case record.FieldInnerIPv6:
			b = record.AppendString(b, rc.ipv6.get(i))
		case record.FieldAgentID:
			b = record.AppendString(b, rc.agent.get(i))
		case record.FieldCloudID:
			b = strconv.AppendInt(b, ix.CloudID.values[rc.cloud.get(i)], 10)
		case record.FieldCloudName:
			b = record.AppendString(b, ix.CloudName.Term(ix.CloudName.rowTerm[i]))
		case record.FieldSetEnv:
			b = record.AppendString(b, ix.Env.Term(ix.Env.rowTerm[i]))
		case record.FieldSetID:
			b = strconv.AppendInt(b, ix.SetID.values[rc.setTerm[i]], 10)
		case record.FieldModuleID:
			b = strconv.AppendInt(b, ix.ModuleID.values[rc.moduleTerm[i]], 10)
		case record.FieldSetName:
			b = record.AppendString(b, ix.SetName.Term(ix.SetName.rowTerm[i]))
		case record.FieldModuleName:
			b = record.AppendString(b, ix.ModuleName.Term(ix.ModuleName.rowTerm[i]))
		case record.FieldServiceTemplateID:
			has := rc.hasSvcTmpl.has(i)
			var v int64
			if has {
				v = rc.svcTmpl.get(i)
			}
			b = record.AppendNullableInt(b, v, has)
		case record.FieldServiceInstanceID:
			b = strconv.AppendInt(b, ix.ServiceInstanceID.values[rc.svcInst.get(i)], 10)
		case record.FieldServiceName:
			b = record.AppendString(b, ix.ServiceName.Term(ix.ServiceName.rowTerm[i]))
		case record.FieldProcessName:
			b = record.AppendString(b, ix.ProcessName.Term(ix.ProcessName.rowTerm[i]))
		case record.FieldProcessID:
			b = strconv.AppendInt(b, ix.ProcessID(row), 10)
		case record.FieldProcessTemplateID:
			b = strconv.AppendInt(b, rc.procTmpl.get(i), 10)
		case record.FieldProcessStatus:
			b = strconv.AppendInt(b, ix.cols.statusOf(row), 10)
		case record.FieldIsAuto:
			b = strconv.AppendBool(b, ix.cols.autoOf(row))
		case record.FieldConfigTemplates:
			b = ix.appendConfigs(b, row)
		case record.FieldProcInstInfos:
			b = ix.appendInfos(b, row)
		}
	}
	return append(b, '}')
}

// appendExpression appends the expression of row as a JSON string: its
// own, or the one derived from its names.
func (ix *Index) appendExpression(b []byte, row uint32) []byte {
	rc, i := &ix.rc, int(row)
	if !rc.derived.has(i) {
		return record.AppendString(b, rc.expr.get(i))
	}
	return record.AppendDerivedExpression(b,
		ix.SetName.Term(ix.SetName.rowTerm[i]), ix.ModuleName.Term(ix.ModuleName.rowTerm[i]),
		ix.ServiceName.Term(ix.ServiceName.rowTerm[i]), ix.ProcessName.Term(ix.ProcessName.rowTerm[i]),
		ix.ProcessID(row))
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

// appendInfos appends the proc_inst_infos list of row: the one a status
// update set, else the one of the build.
func (ix *Index) appendInfos(b []byte, row uint32) []byte {
	b = append(b, '[')
	if infos, set := ix.cols.infosOf(row); set {
		for k, p := range infos {
			b = record.AppendProcInstInfo(b, k, p)
		}
		return append(b, ']')
	}
	c := &ix.rc.pi
	lo, hi, _ := c.span(int(row))
	pid := ix.ProcessID(row)
	for j := lo; j < hi; j++ {
		b = record.AppendProcInstInfo(b, j-lo, record.ProcInstInfo{ProcessID: pid + c.pidDelta.get(j),
			LocalInstID: c.local.get(j), InstID: c.inst.get(j), ProcessStatus: c.status.get(j), IsAuto: c.auto.has(j)})
	}
	return append(b, ']')
}
