// Package record defines one process-status record (SPEC section 1) and its
// JSON Lines form: decoding an imported line and encoding a response item,
// optionally projected onto a subset of its keys.
package record

import (
	"strconv"
)

// Record is one process with its status. Field order groups the fixed-size
// fields first so the struct packs tightly in memory.
type Record struct {
	ID                int64
	BizID             int64
	CloudID           int64
	SetID             int64
	ModuleID          int64
	ServiceInstanceID int64
	ProcessID         int64
	ProcessTemplateID int64
	ProcessStatus     int64
	// ServiceTemplateID is meaningful only when HasServiceTemplate is true;
	// otherwise the JSON value is null.
	ServiceTemplateID  int64
	HasServiceTemplate bool
	IsAuto             bool

	Expression  string
	InnerIP     string
	InnerIPv6   string
	AgentID     string
	CloudName   string
	SetEnv      string
	SetName     string
	ModuleName  string
	ServiceName string
	ProcessName string

	ConfigTemplates []ConfigTemplate
	ProcInstInfos   []ProcInstInfo
}

// ConfigTemplate is one item of a record's config_templates list.
type ConfigTemplate struct {
	ConfigTemplateID int64
	TemplateName     string
	FileName         string
}

// ProcInstInfo is one item of a record's proc_inst_infos list.
type ProcInstInfo struct {
	ProcessID     int64
	LocalInstID   int64
	InstID        int64
	ProcessStatus int64
	IsAuto        bool
}

// DerivedExpression is the display path a record gets on import when it has
// no expression of its own: set.module.service.process.process_id.
func (r *Record) DerivedExpression() string {
	return string(r.AppendDerivedExpression(make([]byte, 0, r.DerivedExpressionLen())))
}

// HasDerivedExpression reports whether r.Expression equals
// r.DerivedExpression(), without allocating.
func (r *Record) HasDerivedExpression() bool {
	s := r.Expression
	for _, part := range [...]string{r.SetName, r.ModuleName, r.ServiceName, r.ProcessName} {
		if len(s) <= len(part) || s[:len(part)] != part || s[len(part)] != '.' {
			return false
		}
		s = s[len(part)+1:]
	}
	var buf [20]byte
	return s == string(strconv.AppendInt(buf[:0], r.ProcessID, 10))
}

// DerivedExpressionLen returns the length in bytes of DerivedExpression.
func (r *Record) DerivedExpressionLen() int {
	var buf [20]byte
	return len(r.SetName) + len(r.ModuleName) + len(r.ServiceName) + len(r.ProcessName) + 4 +
		len(strconv.AppendInt(buf[:0], r.ProcessID, 10))
}

// AppendDerivedExpression appends DerivedExpression to b.
func (r *Record) AppendDerivedExpression(b []byte) []byte {
	b = append(b, r.SetName...)
	b = append(b, '.')
	b = append(b, r.ModuleName...)
	b = append(b, '.')
	b = append(b, r.ServiceName...)
	b = append(b, '.')
	b = append(b, r.ProcessName...)
	b = append(b, '.')
	return strconv.AppendInt(b, r.ProcessID, 10)
}
