package index

import (
	"unsafe"

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

// jsonStep is one member of a jsonLayout: the glue before the value of a
// field, how the value is written (jsonFields), and whether a string
// value is known to need no escaping.
type jsonStep struct {
	glue     *block
	write    jsonWrite
	off      uintptr
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
		l.steps[l.n] = jsonStep{glue: &jsonGlue[prev][f], write: jsonFields[f].write, off: jsonFields[f].off, verbatim: v.has(f)}
		l.n++
		prev = jsonKinds[f]
	}
	l.tail = &jsonTails[prev]
	l.pid, l.derived = needs(s).Has(record.FieldProcessID), v.fields&derivedNames == derivedNames
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

// jsonKinds holds the kind of each field's value, as jsonFields writes it.
var jsonKinds = func() (k [record.NumFields]jsonKind) {
	for f, jf := range jsonFields {
		switch jf.write {
		case writeString, writeExpression:
			k[f] = kindString
		case writeConfigs, writeInfos:
			k[f] = kindList
		}
	}
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
		field := unsafe.Add(unsafe.Pointer(r), st.off)
		switch st.write {
		case writeInt:
			b = appendInt(b, *(*int64)(field))
		case writeString:
			b = record.AppendInside(b, *(*string)(field), st.verbatim)
		case writeExpression:
			if ls.derived {
				b = record.AppendDerivedInside(b, r.SetName, r.ModuleName, r.ServiceName, r.ProcessName, pid, l.derived)
			} else {
				b = record.AppendInside(b, r.Expression, st.verbatim)
			}
		case writeNullable:
			b = record.AppendNullableInt(b, r.ServiceTemplateID, r.HasServiceTemplate)
		case writeBool:
			b = record.AppendBool(b, r.IsAuto)
		case writePid:
			b = append(b, pid...)
		case writeConfigs:
			b = ix.appendConfigs(b, ls.ctLo, ls.ctHi, st.verbatim)
		case writeInfos:
			b = ix.appendInfos(b, ls, r.ProcessID, pid)
		}
	}
	return appendBlock(b, l.tail)
}

// jsonWrite is how appendRow writes the value of a field.
type jsonWrite uint8

const (
	// writeInt and writeString write the int64 or string at the field's
	// offset in the record (jsonFields).
	writeInt jsonWrite = iota
	writeString
	writeExpression
	writeNullable
	writeBool
	writePid
	writeConfigs
	writeInfos
)

// jsonFields holds how each field is written and, for writeInt and
// writeString, its offset in a record.
var jsonFields = [record.NumFields]struct {
	write jsonWrite
	off   uintptr
}{
	record.FieldID:                {writeInt, unsafe.Offsetof(record.Record{}.ID)},
	record.FieldBizID:             {writeInt, unsafe.Offsetof(record.Record{}.BizID)},
	record.FieldExpression:        {write: writeExpression},
	record.FieldInnerIP:           {writeString, unsafe.Offsetof(record.Record{}.InnerIP)},
	record.FieldInnerIPv6:         {writeString, unsafe.Offsetof(record.Record{}.InnerIPv6)},
	record.FieldAgentID:           {writeString, unsafe.Offsetof(record.Record{}.AgentID)},
	record.FieldCloudID:           {writeInt, unsafe.Offsetof(record.Record{}.CloudID)},
	record.FieldCloudName:         {writeString, unsafe.Offsetof(record.Record{}.CloudName)},
	record.FieldSetEnv:            {writeString, unsafe.Offsetof(record.Record{}.SetEnv)},
	record.FieldSetID:             {writeInt, unsafe.Offsetof(record.Record{}.SetID)},
	record.FieldModuleID:          {writeInt, unsafe.Offsetof(record.Record{}.ModuleID)},
	record.FieldSetName:           {writeString, unsafe.Offsetof(record.Record{}.SetName)},
	record.FieldModuleName:        {writeString, unsafe.Offsetof(record.Record{}.ModuleName)},
	record.FieldServiceTemplateID: {write: writeNullable},
	record.FieldServiceInstanceID: {writeInt, unsafe.Offsetof(record.Record{}.ServiceInstanceID)},
	record.FieldServiceName:       {writeString, unsafe.Offsetof(record.Record{}.ServiceName)},
	record.FieldProcessName:       {writeString, unsafe.Offsetof(record.Record{}.ProcessName)},
	record.FieldProcessID:         {write: writePid},
	record.FieldProcessTemplateID: {writeInt, unsafe.Offsetof(record.Record{}.ProcessTemplateID)},
	record.FieldProcessStatus:     {writeInt, unsafe.Offsetof(record.Record{}.ProcessStatus)},
	record.FieldIsAuto:            {write: writeBool},
	record.FieldConfigTemplates:   {write: writeConfigs},
	record.FieldProcInstInfos:     {write: writeInfos},
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
