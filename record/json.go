package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Field names one key of a record's JSON object.
type Field uint8

// The keys of a record, in the order the response lists them.
const (
	FieldID Field = iota
	FieldBizID
	FieldExpression
	FieldInnerIP
	FieldInnerIPv6
	FieldAgentID
	FieldCloudID
	FieldCloudName
	FieldSetEnv
	FieldSetID
	FieldModuleID
	FieldSetName
	FieldModuleName
	FieldServiceTemplateID
	FieldServiceInstanceID
	FieldServiceName
	FieldProcessName
	FieldProcessID
	FieldProcessTemplateID
	FieldProcessStatus
	FieldIsAuto
	FieldConfigTemplates
	FieldProcInstInfos
	numFields
)

// NumFields is the number of fields of a record.
const NumFields = int(numFields)

var fieldNames = [numFields]string{
	"id", "bk_biz_id", "expression", "bk_host_innerip", "bk_host_innerip_v6",
	"bk_agent_id", "bk_cloud_id", "bk_cloud_name", "bk_set_env", "bk_set_id",
	"bk_module_id", "bk_set_name", "bk_module_name", "service_template_id",
	"service_instance_id", "bk_service_name", "bk_process_name", "bk_process_id",
	"process_template_id", "process_status", "is_auto", "config_templates",
	"proc_inst_infos",
}

// String returns the JSON key of f.
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "Field(" + strconv.Itoa(int(f)) + ")"
}

// FieldByName returns the field whose JSON key is name.
func FieldByName(name string) (Field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return Field(i), true
		}
	}
	return 0, false
}

// FieldSet is a set of fields; the zero value means every field.
type FieldSet uint32

// AllFields is the set holding every field.
const AllFields = FieldSet(1<<numFields - 1)

// With returns s with f added.
func (s FieldSet) With(f Field) FieldSet { return s | 1<<f }

// Has reports whether f is in s.
func (s FieldSet) Has(f Field) bool { return s&(1<<f) != 0 }

// AppendJSON appends r as a JSON object holding the fields of s (all when s
// is zero), keys in response order.
func (r *Record) AppendJSON(b []byte, s FieldSet) []byte {
	s = s.OrAll()
	b = append(b, '{')
	b = r.appendFields(b, s)
	return append(b, '}')
}

// appendFields appends the members ("key":value) of the fields of s,
// which must not be zero (see OrAll). One line per key, in the order the
// keys are written, is the response order made visible.
func (r *Record) appendFields(b []byte, s FieldSet) []byte {
	b = intMember(b, s, FieldID, r.ID)
	b = intMember(b, s, FieldBizID, r.BizID)
	b = strMember(b, s, FieldExpression, r.Expression)
	b = strMember(b, s, FieldInnerIP, r.InnerIP)
	b = strMember(b, s, FieldInnerIPv6, r.InnerIPv6)
	b = strMember(b, s, FieldAgentID, r.AgentID)
	b = intMember(b, s, FieldCloudID, r.CloudID)
	b = strMember(b, s, FieldCloudName, r.CloudName)
	b = strMember(b, s, FieldSetEnv, r.SetEnv)
	b = intMember(b, s, FieldSetID, r.SetID)
	b = intMember(b, s, FieldModuleID, r.ModuleID)
	b = strMember(b, s, FieldSetName, r.SetName)
	b = strMember(b, s, FieldModuleName, r.ModuleName)
	if s.Has(FieldServiceTemplateID) {
		b = AppendNullableInt(appendKey(b, FieldServiceTemplateID, s), r.ServiceTemplateID, r.HasServiceTemplate)
	}
	b = intMember(b, s, FieldServiceInstanceID, r.ServiceInstanceID)
	b = strMember(b, s, FieldServiceName, r.ServiceName)
	b = strMember(b, s, FieldProcessName, r.ProcessName)
	b = intMember(b, s, FieldProcessID, r.ProcessID)
	b = intMember(b, s, FieldProcessTemplateID, r.ProcessTemplateID)
	b = intMember(b, s, FieldProcessStatus, r.ProcessStatus)
	if s.Has(FieldIsAuto) {
		b = AppendBool(appendKey(b, FieldIsAuto, s), r.IsAuto)
	}
	if s.Has(FieldConfigTemplates) {
		b = append(appendKey(b, FieldConfigTemplates, s), '[')
		for i, c := range r.ConfigTemplates {
			b = appendConfigTemplate(b, i, c)
		}
		b = append(b, ']')
	}
	if s.Has(FieldProcInstInfos) {
		b = append(appendKey(b, FieldProcInstInfos, s), '[')
		for i, p := range r.ProcInstInfos {
			b = AppendProcInstInfo(b, i, p)
		}
		b = append(b, ']')
	}
	return b
}

// intMember appends the member of f, an integer v, when f is in s.
func intMember(b []byte, s FieldSet, f Field, v int64) []byte {
	if !s.Has(f) {
		return b
	}
	return strconv.AppendInt(appendKey(b, f, s), v, 10)
}

// strMember appends the member of f, a string v, when f is in s.
func strMember(b []byte, s FieldSet, f Field, v string) []byte {
	if !s.Has(f) {
		return b
	}
	return appendString(appendKey(b, f, s), v)
}

// AppendInside appends s as the inside of a JSON string, without the
// quotes: as is when verbatim says it is known to need no escaping
// (Verbatim), else escaped as AppendString escapes it.
func AppendInside(b []byte, s string, verbatim bool) []byte {
	if verbatim {
		return append(b, s...)
	}
	return appendEscaped(b, s)
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// OrAll returns s, or AllFields when s is zero (the zero set means every
// field).
func (s FieldSet) OrAll() FieldSet {
	if s == 0 {
		return AllFields
	}
	return s
}

// appendKey appends the key of f, `"name":`, preceded by a comma unless f
// is the first field of s, which must not be zero (see OrAll).
func appendKey(b []byte, f Field, s FieldSet) []byte {
	k := memberKeys[f%numFields]
	if s&(1<<f-1) == 0 {
		k = k[1:]
	}
	return append(b, k...)
}

// memberKeys holds the key of each field with the comma before it,
// `,"name":`, so that appendKey copies one string.
var memberKeys = func() (k [numFields]string) {
	for f, n := range fieldNames {
		k[f] = `,"` + n + `":`
	}
	return k
}()

// AppendNullableInt appends v, or null when ok is false.
func AppendNullableInt(b []byte, v int64, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, v, 10)
}

// appendConfigTemplate appends c as the i-th item of a config_templates
// list (a comma first unless i is 0).
func appendConfigTemplate(b []byte, i int, c ConfigTemplate) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"config_template_id":`...)
	b = strconv.AppendInt(b, c.ConfigTemplateID, 10)
	b = append(b, `,"template_name":`...)
	b = appendString(b, c.TemplateName)
	b = append(b, `,"file_name":`...)
	b = appendString(b, c.FileName)
	return append(b, '}')
}

// AppendProcInstInfo appends p as the i-th item of a proc_inst_infos list
// (a comma first unless i is 0).
func AppendProcInstInfo(b []byte, i int, p ProcInstInfo) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, `{"bk_process_id":`...)
	b = strconv.AppendInt(b, p.ProcessID, 10)
	b = append(b, `,"local_inst_id":`...)
	b = strconv.AppendInt(b, p.LocalInstID, 10)
	b = append(b, `,"inst_id":`...)
	b = strconv.AppendInt(b, p.InstID, 10)
	b = append(b, `,"process_status":`...)
	b = strconv.AppendInt(b, p.ProcessStatus, 10)
	b = append(b, `,"is_auto":`...)
	b = AppendBool(b, p.IsAuto)
	return append(b, '}')
}

// AppendDerivedInside appends the inside of the JSON string of the
// expression DerivedExpression gives a record with these names and the
// process id whose decimal digits are pid: the names are escaped one by
// one, which is the escaping of the whole since the dots between them
// are ASCII, or copied as they are when verbatim says they are known to
// need no escaping (Verbatim).
func AppendDerivedInside(b []byte, setName, moduleName, serviceName, processName string, pid []byte, verbatim bool) []byte {
	b = AppendInside(b, setName, verbatim)
	b = append(b, '.')
	b = AppendInside(b, moduleName, verbatim)
	b = append(b, '.')
	b = AppendInside(b, serviceName, verbatim)
	b = append(b, '.')
	b = AppendInside(b, processName, verbatim)
	b = append(b, '.')
	return append(b, pid...)
}

const hexDigits = "0123456789abcdef"

// SWAR constants: a one and a top bit in every byte of a word.
const lsb, msb = 0x0101010101010101, 0x8080808080808080

// word8 returns the 8 bytes of s from i as a little-endian word.
func word8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// specials8 returns a word whose top bit is set in some byte if w holds a
// byte a JSON string escapes (a control character, a quote or a
// backslash), zero if none: the "has less than" and "has zero byte" word
// tests, exact for whether any byte matches. Bytes from 0x80 do not count.
func specials8(w uint64) uint64 {
	quote, backslash := w^('"'*lsb), w^('\\'*lsb)
	return ((w-0x20*lsb)&^w | (quote-lsb)&^quote | (backslash-lsb)&^backslash) & msb
}

// Verbatim reports whether s is written into a JSON string as is: valid
// UTF-8 with no control character, quote or backslash. It tests 8 bytes
// a word and validates UTF-8 only when a byte is not ASCII, so that the
// common string costs a few instructions per 8 bytes
// (BenchmarkAppendString).
func Verbatim(s string) bool {
	var special, high uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word8(s, i)
		special |= specials8(w)
		high |= w
	}
	if i < len(s) {
		// The last bytes: the string's last word, overlapping words
		// already tested, or a short string padded with spaces.
		var w uint64
		if len(s) >= 8 {
			w = word8(s, len(s)-8)
		} else {
			w = ' ' * lsb
			for j := range len(s) {
				w = w&^(0xff<<(8*j)) | uint64(s[j])<<(8*j)
			}
		}
		special |= specials8(w)
		high |= w
	}
	if special != 0 {
		return false
	}
	return high&msb == 0 || utf8.ValidString(s)
}

// AppendString appends s as a JSON string: UTF-8 kept as is, quotes,
// backslashes and control characters escaped, invalid bytes as U+FFFD.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s escaped as the inside of a JSON string: as is
// when it needs no escaping (Verbatim), else a byte at a time.
func appendEscaped(b []byte, s string) []byte {
	if Verbatim(s) {
		return append(b, s...)
	}
	return appendEscapedSlow(b, s)
}

// appendEscapedSlow is appendEscaped for a string that needs escaping.
func appendEscapedSlow(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// jsonRecord is the wire shape used to decode one imported line.
type jsonRecord struct {
	ID                *int64         `json:"id"`
	BizID             *int64         `json:"bk_biz_id"`
	Expression        *string        `json:"expression"`
	InnerIP           string         `json:"bk_host_innerip"`
	InnerIPv6         string         `json:"bk_host_innerip_v6"`
	AgentID           string         `json:"bk_agent_id"`
	CloudID           int64          `json:"bk_cloud_id"`
	CloudName         string         `json:"bk_cloud_name"`
	SetEnv            string         `json:"bk_set_env"`
	SetID             int64          `json:"bk_set_id"`
	ModuleID          int64          `json:"bk_module_id"`
	SetName           string         `json:"bk_set_name"`
	ModuleName        string         `json:"bk_module_name"`
	ServiceTemplateID *int64         `json:"service_template_id"`
	ServiceInstanceID int64          `json:"service_instance_id"`
	ServiceName       string         `json:"bk_service_name"`
	ProcessName       string         `json:"bk_process_name"`
	ProcessID         *int64         `json:"bk_process_id"`
	ProcessTemplateID int64          `json:"process_template_id"`
	ProcessStatus     int64          `json:"process_status"`
	IsAuto            bool           `json:"is_auto"`
	ConfigTemplates   []jsonConfig   `json:"config_templates"`
	ProcInstInfos     []jsonProcInst `json:"proc_inst_infos"`
}

type jsonConfig struct {
	ConfigTemplateID int64  `json:"config_template_id"`
	TemplateName     string `json:"template_name"`
	FileName         string `json:"file_name"`
}

type jsonProcInst struct {
	ProcessID     int64 `json:"bk_process_id"`
	LocalInstID   int64 `json:"local_inst_id"`
	InstID        int64 `json:"inst_id"`
	ProcessStatus int64 `json:"process_status"`
	IsAuto        bool  `json:"is_auto"`
}

// ErrInvalid is wrapped by every error UnmarshalJSON returns for a record
// that is well-formed JSON but not a valid record.
var ErrInvalid = errors.New("invalid record")

// UnmarshalJSON decodes one record in the SPEC's JSON shape. bk_process_id
// is required, and the record must pass Check; an absent expression is
// derived from the name fields. Unknown keys are ignored.
func (r *Record) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	var j jsonRecord
	if err := json.Unmarshal(data, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%w: %s: must be %s, got %s", ErrInvalid, te.Field, te.Type, te.Value)
		}
		return err
	}
	if j.ProcessID == nil {
		return fmt.Errorf("%w: bk_process_id is missing", ErrInvalid)
	}
	rec := Record{
		InnerIP: j.InnerIP, InnerIPv6: j.InnerIPv6, AgentID: j.AgentID,
		CloudID: j.CloudID, CloudName: j.CloudName, SetEnv: j.SetEnv,
		SetID: j.SetID, ModuleID: j.ModuleID, SetName: j.SetName, ModuleName: j.ModuleName,
		ServiceInstanceID: j.ServiceInstanceID, ServiceName: j.ServiceName,
		ProcessName: j.ProcessName, ProcessID: *j.ProcessID,
		ProcessTemplateID: j.ProcessTemplateID, ProcessStatus: j.ProcessStatus, IsAuto: j.IsAuto,
	}
	if err := rec.Check(); err != nil {
		return err
	}
	*r = rec
	if j.ID != nil {
		r.ID = *j.ID
	}
	if j.BizID != nil {
		r.BizID = *j.BizID
	}
	if j.ServiceTemplateID != nil {
		r.ServiceTemplateID, r.HasServiceTemplate = *j.ServiceTemplateID, true
	}
	if len(j.ConfigTemplates) > 0 {
		r.ConfigTemplates = make([]ConfigTemplate, len(j.ConfigTemplates))
		for i, c := range j.ConfigTemplates {
			r.ConfigTemplates[i] = ConfigTemplate(c)
		}
	}
	if len(j.ProcInstInfos) > 0 {
		r.ProcInstInfos = make([]ProcInstInfo, len(j.ProcInstInfos))
		for i, p := range j.ProcInstInfos {
			r.ProcInstInfos[i] = ProcInstInfo(p)
		}
	}
	if j.Expression != nil {
		r.Expression = *j.Expression
	} else {
		r.Expression = r.DerivedExpression()
	}
	return nil
}

// MarshalJSON encodes r with every field.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil, 0), nil
}
