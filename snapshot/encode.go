package snapshot

import (
	"io"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/procq/procq/record"
)

// The istr slots, each with its own intern table.
const (
	tabInnerIP = iota
	tabInnerIPv6
	tabAgentID
	tabCloudName
	tabSetEnv
	tabSetName
	tabModuleName
	tabServiceName
	tabProcessName
	tabTemplateName
	tabFileName
	numTables
)

// maxTable caps how many strings a writer remembers per istr slot, which
// bounds its memory; strings beyond it are written as literals. Readers do
// not need to know the cap.
const maxTable = 1 << 20

// maxDerivedLen is the longest expression written as nil (derived). It
// bounds what a reader allocates per record: interned names cost a byte or
// two each on disk, but a derived expression is built fresh per record.
const maxDerivedLen = 512

// encoder writes version 1 records to a MessagePack stream.
type encoder struct {
	e    *msgpack.Encoder
	tabs [numTables]map[string]uint32
	err  error // first write error
}

func newEncoder(w io.Writer) *encoder {
	x := &encoder{e: msgpack.NewEncoder(w)}
	for i := range x.tabs {
		x.tabs[i] = make(map[string]uint32)
	}
	return x
}

// check records the first write error.
func (x *encoder) check(err error) {
	if err != nil && x.err == nil {
		x.err = err
	}
}

// encode writes r as one record. It returns the first write error; the
// stream is unusable after one.
func (x *encoder) encode(r *record.Record) error {
	e := x.e
	x.check(e.EncodeArrayLen(recordFields))
	x.check(e.EncodeInt(r.ID))
	x.check(e.EncodeInt(r.BizID))
	x.check(e.EncodeInt(r.CloudID))
	x.check(e.EncodeInt(r.SetID))
	x.check(e.EncodeInt(r.ModuleID))
	x.check(e.EncodeInt(r.ServiceInstanceID))
	x.check(e.EncodeInt(r.ProcessID))
	x.check(e.EncodeInt(r.ProcessTemplateID))
	x.check(e.EncodeInt(r.ProcessStatus))
	x.check(x.optInt(r.ServiceTemplateID, r.HasServiceTemplate))
	x.check(e.EncodeBool(r.IsAuto))
	x.check(x.expression(r))
	x.check(x.istr(tabInnerIP, r.InnerIP))
	x.check(x.istr(tabInnerIPv6, r.InnerIPv6))
	x.check(x.istr(tabAgentID, r.AgentID))
	x.check(x.istr(tabCloudName, r.CloudName))
	x.check(x.istr(tabSetEnv, r.SetEnv))
	x.check(x.istr(tabSetName, r.SetName))
	x.check(x.istr(tabModuleName, r.ModuleName))
	x.check(x.istr(tabServiceName, r.ServiceName))
	x.check(x.istr(tabProcessName, r.ProcessName))
	x.check(e.EncodeArrayLen(len(r.ConfigTemplates)))
	for i := range r.ConfigTemplates {
		c := &r.ConfigTemplates[i]
		x.check(e.EncodeArrayLen(ctFields))
		x.check(e.EncodeInt(c.ConfigTemplateID))
		x.check(x.istr(tabTemplateName, c.TemplateName))
		x.check(x.istr(tabFileName, c.FileName))
	}
	x.check(e.EncodeArrayLen(len(r.ProcInstInfos)))
	for i := range r.ProcInstInfos {
		p := &r.ProcInstInfos[i]
		x.check(e.EncodeArrayLen(piFields))
		x.check(x.optInt(p.ProcessID, p.ProcessID != r.ProcessID))
		x.check(e.EncodeInt(p.LocalInstID))
		x.check(e.EncodeInt(p.InstID))
		x.check(e.EncodeInt(p.ProcessStatus))
		x.check(e.EncodeBool(p.IsAuto))
	}
	return x.err
}

func (x *encoder) optInt(v int64, ok bool) error {
	if !ok {
		return x.e.EncodeNil()
	}
	return x.e.EncodeInt(v)
}

func (x *encoder) expression(r *record.Record) error {
	if len(r.Expression) <= maxDerivedLen && r.HasDerivedExpression() {
		return x.e.EncodeNil()
	}
	return x.e.EncodeString(r.Expression)
}

func (x *encoder) istr(t int, s string) error {
	if s == "" {
		return x.e.EncodeString(s)
	}
	tab := x.tabs[t]
	if i, ok := tab[s]; ok {
		return x.e.EncodeUint(uint64(i))
	}
	if len(tab) < maxTable {
		tab[s] = uint32(len(tab))
	}
	return x.e.EncodeString(s)
}
