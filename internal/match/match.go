// Package match holds the request semantics of the SPEC written for one
// record at a time, without indexes: the scope or expression_scope of a
// request, the filters that follow it, and the sort order of SPEC section
// 6. The full-scan baselines answer whole requests with it, and the engine
// tests the records of its small delta with it, so both share one reading
// of the SPEC.
package match

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/procq/procq/api"
	"github.com/procq/procq/expr"
	"github.com/procq/procq/record"
)

// ErrNotCompiled is the error of a query that api.ParseRequest did not make.
var ErrNotCompiled = errors.New("expression_scope not compiled: the query must come from api.ParseRequest")

// Expr matches records against an expression_scope compiled by
// api.ParseRequest.
type Expr struct {
	// Env is the expression's bk_set_env ("0" for any).
	Env      string
	names    [4]*expr.Pattern // set, module, service instance, process
	pid      *expr.Pattern    // nil when bk_process_id is a slice
	slice    *expr.Slice
	needsPID bool
}

// ExprOf returns the matcher of x's compiled expressions.
func ExprOf(x *api.ExprScope) (*Expr, error) {
	c := x.Compiled
	if c == nil {
		return nil, ErrNotCompiled
	}
	m := &Expr{
		Env:   x.Env,
		names: [4]*expr.Pattern{c.SetName, c.ModuleName, c.ServiceInstanceName, c.ProcessName},
		pid:   c.ProcessID,
		slice: c.Slice,
	}
	m.needsPID = m.pid != nil && !m.pid.MatchesAll()
	return m, nil
}

// Slice returns the bk_process_id slice, or nil.
func (m *Expr) Slice() *expr.Slice { return m.slice }

// EnvOK reports whether a record of environment env is in a scope or
// expression whose bk_set_env is want.
func EnvOK(want, env string) bool { return want == "0" || want == env }

// Match reports whether a record with these names and id matches the four
// name expressions and the bk_process_id pattern (not the env).
func (m *Expr) Match(setName, moduleName, serviceName, processName string, pid int64) bool {
	for i, s := range [4]string{setName, moduleName, serviceName, processName} {
		if !m.names[i].Match(s) {
			return false
		}
	}
	if m.needsPID {
		var buf [20]byte
		return m.pid.Match(string(strconv.AppendInt(buf[:0], pid, 10)))
	}
	return true
}

// SliceIDs applies the slice, if any, to ids sorted ascending.
func (m *Expr) SliceIDs(ids []int64) []int64 {
	if m.slice == nil {
		return ids
	}
	start, end := m.slice.Bounds(len(ids))
	return ids[start:end]
}

// In reports whether list is empty (no filter) or holds v.
func In[T comparable](list []T, v T) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

// RestOK applies the filters that follow the scope or expression (and its
// slice): cloud ids, IPs, statuses, is_auto and the searches.
func RestOK(q *api.Query, cloudID int64, ip, cloudName string, status int64, isAuto bool) bool {
	if !In(q.CloudIDs, cloudID) || !In(q.InnerIPs, ip) || !In(q.Status, status) ||
		!In(q.StatusList, status) || !In(q.IsAuto, isAuto) || !In(q.IsAutoList, isAuto) {
		return false
	}
	for _, t := range q.Searches {
		if !strings.Contains(ip, t) && !strings.Contains(cloudName, t) {
			return false
		}
	}
	return true
}

// Request tests whole records against one parsed request.
type Request struct {
	q *api.Query
	x *Expr // nil for a scope
}

// New returns the record matcher of q, which api.ParseRequest made.
func New(q *api.Query) (*Request, error) {
	m := &Request{q: q}
	if q.Scope == nil && q.Expr != nil {
		x, err := ExprOf(q.Expr)
		if err != nil {
			return nil, err
		}
		m.x = x
	}
	return m, nil
}

// Slice returns the expression's bk_process_id slice, or nil. It applies
// to the records InScope accepts, in ascending bk_process_id order, before
// Rest.
func (m *Request) Slice() *expr.Slice {
	if m.x == nil {
		return nil
	}
	return m.x.slice
}

// InScope reports whether r is in the request's business and its scope
// or expression (the slice aside).
func (m *Request) InScope(r *record.Record) bool {
	if r.BizID != m.q.BizID {
		return false
	}
	if sc := m.q.Scope; sc != nil {
		return EnvOK(sc.Env, r.SetEnv) &&
			In(sc.SetIDs, r.SetID) && In(sc.ModuleIDs, r.ModuleID) &&
			In(sc.ServiceIDs, r.ServiceInstanceID) && In(sc.ProcessNames, r.ProcessName) &&
			In(sc.ProcessIDs, r.ProcessID)
	}
	if m.x == nil {
		return false
	}
	return EnvOK(m.x.Env, r.SetEnv) && m.x.Match(r.SetName, r.ModuleName, r.ServiceName, r.ProcessName, r.ProcessID)
}

// Rest reports whether r passes the filters after the scope: RestOK.
func (m *Request) Rest(r *record.Record) bool {
	return RestOK(m.q, r.CloudID, r.InnerIP, r.CloudName, r.ProcessStatus, r.IsAuto)
}
