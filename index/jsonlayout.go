package index

import (
	"github.com/procq/procq/record"
)

// jsonLayout is the shape of the JSON object of a row for one set of
// fields: each field's value with the constant bytes before it (glue)
// made into one string, `","bk_host_innerip":"` between two strings, so
// that writing a row copies one string between two values instead of a
// closing quote, a key and an opening quote (BenchmarkPageJSON).
type jsonLayout struct {
	steps [record.NumFields]jsonStep
	n     int
	// tail closes the last value and the object.
	tail *block
	// derived says the names a derived expression joins need no
	// escaping.
	derived bool
	// pid says whether a row's bk_process_id is written (as itself, in
	// a derived expression or in proc_inst_infos).
	pid bool
}

// jsonStep is one member of a jsonLayout: the glue before the value of
// f, and whether a string value is known to need no escaping.
type jsonStep struct {
	glue     *block
	f        record.Field
	verbatim bool
}

// newJSONLayout returns the layout of the fields of s (not zero), whose
// strings are known to need no escaping as v says. It allocates nothing:
// the glue strings are made once (jsonGlue).
func newJSONLayout(s record.FieldSet, v jsonVerbatim) jsonLayout {
	var l jsonLayout
	prev := kindStart
	for f := range record.NumFields {
		f := record.Field(f)
		if !s.Has(f) {
			continue
		}
		l.steps[l.n] = jsonStep{glue: &jsonGlue[prev][f], f: f, verbatim: v.has(f)}
		l.n++
		prev = jsonKinds[f]
	}
	l.tail = &jsonTails[prev]
	l.pid, l.derived = needs(s).Has(record.FieldProcessID), v.derived
	return l
}

// has reports whether the strings of f are known to need no escaping.
func (v jsonVerbatim) has(f record.Field) bool {
	switch f {
	case record.FieldExpression:
		return v.expr
	case record.FieldConfigTemplates:
		return v.configs
	}
	return v.fields.Has(f)
}

// jsonKind is how the value of a field opens and closes: bare (a number
// or a literal), a string in quotes, a list in brackets; kindStart is
// the kind before the first member, where the object opens.
type jsonKind uint8

const (
	kindBare jsonKind = iota
	kindString
	kindList
	kindStart
	numKinds
)

// kindOpen and kindClose are the bytes that open and close a value of
// each kind.
var (
	kindOpen  = [numKinds]string{kindString: `"`, kindList: "["}
	kindClose = [numKinds]string{kindString: `"`, kindList: "]"}
)

// jsonKinds holds the kind of each field's value.
var jsonKinds = func() (k [record.NumFields]jsonKind) {
	for _, f := range []record.Field{record.FieldExpression, record.FieldInnerIP, record.FieldInnerIPv6,
		record.FieldAgentID, record.FieldCloudName, record.FieldSetEnv, record.FieldSetName,
		record.FieldModuleName, record.FieldServiceName, record.FieldProcessName} {
		k[f] = kindString
	}
	k[record.FieldConfigTemplates], k[record.FieldProcInstInfos] = kindList, kindList
	return k
}()

// jsonGlue holds the glue before the value of each field after a value
// of each kind (or first, after kindStart); jsonTails the bytes that end
// an object after a last value of each kind.
var jsonGlue, jsonTails = func() (g [numKinds][record.NumFields]block, t [numKinds]block) {
	for prev := range numKinds {
		sep := kindClose[prev] + ","
		if prev == kindStart {
			sep = "{"
		}
		for f := range record.NumFields {
			g[prev][f] = newBlock(sep + `"` + record.Field(f).String() + `":` + kindOpen[jsonKinds[f]])
		}
		t[prev] = newBlock(kindClose[prev] + "}")
	}
	return g, t
}()

// appendRow appends the JSON object, laid out by l, of a row whose
// scalars and own expression are r and whose lists are at ls: the bytes
// record.AppendJSON writes for the row's record.
func (ix *Index) appendRow(b []byte, l *jsonLayout, r *record.Record, ls *rowLists) []byte {
	var pidBuf [20]byte
	var pid []byte
	if l.pid {
		pid = appendInt(pidBuf[:0], r.ProcessID)
	}
	for _, st := range l.steps[:l.n] {
		b = appendBlock(b, st.glue)
		switch st.f {
		case record.FieldID:
			b = appendInt(b, r.ID)
		case record.FieldBizID:
			b = appendInt(b, r.BizID)
		case record.FieldExpression:
			if ls.derived {
				b = record.AppendDerivedInside(b, r.SetName, r.ModuleName, r.ServiceName, r.ProcessName, pid, l.derived)
			} else {
				b = record.AppendInside(b, r.Expression, st.verbatim)
			}
		case record.FieldInnerIP:
			b = record.AppendInside(b, r.InnerIP, st.verbatim)
		case record.FieldInnerIPv6:
			b = record.AppendInside(b, r.InnerIPv6, st.verbatim)
		case record.FieldAgentID:
			b = record.AppendInside(b, r.AgentID, st.verbatim)
		case record.FieldCloudID:
			b = appendInt(b, r.CloudID)
		case record.FieldCloudName:
			b = record.AppendInside(b, r.CloudName, st.verbatim)
		case record.FieldSetEnv:
			b = record.AppendInside(b, r.SetEnv, st.verbatim)
		case record.FieldSetID:
			b = appendInt(b, r.SetID)
		case record.FieldModuleID:
			b = appendInt(b, r.ModuleID)
		case record.FieldSetName:
			b = record.AppendInside(b, r.SetName, st.verbatim)
		case record.FieldModuleName:
			b = record.AppendInside(b, r.ModuleName, st.verbatim)
		case record.FieldServiceTemplateID:
			b = record.AppendNullableInt(b, r.ServiceTemplateID, r.HasServiceTemplate)
		case record.FieldServiceInstanceID:
			b = appendInt(b, r.ServiceInstanceID)
		case record.FieldServiceName:
			b = record.AppendInside(b, r.ServiceName, st.verbatim)
		case record.FieldProcessName:
			b = record.AppendInside(b, r.ProcessName, st.verbatim)
		case record.FieldProcessID:
			b = append(b, pid...)
		case record.FieldProcessTemplateID:
			b = appendInt(b, r.ProcessTemplateID)
		case record.FieldProcessStatus:
			b = appendInt(b, r.ProcessStatus)
		case record.FieldIsAuto:
			b = record.AppendBool(b, r.IsAuto)
		case record.FieldConfigTemplates:
			b = ix.appendConfigs(b, ls.ctLo, ls.ctHi, st.verbatim)
		case record.FieldProcInstInfos:
			b = ix.appendInfos(b, ls, r.ProcessID, pid)
		}
	}
	return appendBlock(b, l.tail)
}

// appendConfigs appends the items [lo, hi) of the config_templates
// columns, as the inside of a list; verbatim says their names need no
// escaping.
func (ix *Index) appendConfigs(b []byte, lo, hi int, verbatim bool) []byte {
	c := &ix.rc.ct
	for j := lo; j < hi; j++ {
		if j > lo {
			b = append(b, ',')
		}
		b = appendBlock(b, &ctID)
		b = appendInt(b, c.id.get(j))
		b = appendBlock(b, &ctTmpl)
		b = record.AppendInside(b, c.tmpl.get(j), verbatim)
		b = appendBlock(b, &ctFile)
		b = record.AppendInside(b, c.file.get(j), verbatim)
		b = appendBlock(b, &ctEnd)
	}
	return b
}

// appendInfos appends the proc_inst_infos list at ls of a row whose
// bk_process_id is pid (digits its decimal digits), as the inside of a
// list: the one a status update set, else the build's.
func (ix *Index) appendInfos(b []byte, ls *rowLists, pid int64, digits []byte) []byte {
	if ls.infosSet {
		for k, p := range ls.infos {
			b = record.AppendProcInstInfo(b, k, p)
		}
		return b
	}
	c := &ix.rc.pi
	for j := ls.piLo; j < ls.piHi; j++ {
		if j > ls.piLo {
			b = append(b, ',')
		}
		b = appendBlock(b, &piPid)
		if d := c.pidDelta.get(j); d == 0 {
			b = append(b, digits...)
		} else {
			b = appendInt(b, pid+d)
		}
		b = appendBlock(b, &piLocal)
		b = appendInt(b, c.local.get(j))
		b = appendBlock(b, &piInst)
		b = appendInt(b, c.inst.get(j))
		b = appendBlock(b, &piStatus)
		b = appendInt(b, c.status.get(j))
		if c.auto.has(j) {
			b = appendBlock(b, &piAutoTrue)
		} else {
			b = appendBlock(b, &piAutoFalse)
		}
	}
	return b
}

// The constant pieces of the items of lists.
var (
	ctID, ctTmpl, ctFile, ctEnd = newBlock(`{"config_template_id":`), newBlock(`,"template_name":"`),
		newBlock(`","file_name":"`), newBlock(`"}`)
	piPid, piLocal, piInst, piStatus = newBlock(`{"bk_process_id":`), newBlock(`,"local_inst_id":`),
		newBlock(`,"inst_id":`), newBlock(`,"process_status":`)
	piAutoTrue, piAutoFalse = newBlock(`,"is_auto":true}`), newBlock(`,"is_auto":false}`)
)
