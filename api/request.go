// Package api is the wire format of procq's service, the BlueKing GSEKit
// request POST /v2/gsekit/api/process/process_status/: it decodes and
// validates a request body into a Query (SPEC sections 2, 3, 4, 6 and 10)
// and encodes the response envelope (SPEC section 7). The contract is
// stated for users in docs/API.md; the SPEC sections cited here are those
// of the GSEKit specification it was written from.
//
// ParseRequest is the one place a request is checked: validation
// (CodeValidation) first, then the syntax of the five expression_scope
// expressions (CodeExprSyntax), then the bk_process_id slice (CodeSlice),
// each an *Error whose message names the offending field. A Query carries
// its expressions compiled, so no later stage parses them again.
//
// Lists are deduplicated as they are parsed (first occurrence kept), so a
// request's cost follows its distinct values, not its length.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/procq/procq/expr"
	"github.com/procq/procq/record"
)

// MaxPageSize is the largest page a request gets; larger page sizes are
// capped to it.
const MaxPageSize = 1000

// Query is a validated request.
type Query struct {
	// BizID is bk_biz_id: only records of this business are returned.
	BizID int64
	// Scope is set when the request has a non-null scope; Expr is then nil
	// and expression_scope was ignored without being validated.
	Scope *Scope
	// Expr is set when the request has expression_scope and no scope.
	Expr *ExprScope
	// CloudIDs is bk_cloud_ids; empty means no filter.
	CloudIDs []int64
	// InnerIPs is bk_host_innerips, exact strings ("" included); empty
	// means no filter.
	InnerIPs []string
	// Status is process_status as a one-element list; nil means absent.
	Status []int64
	// StatusList is process_status_list; empty means no filter.
	StatusList []int64
	// IsAuto is is_auto as a one-element list; nil means absent.
	IsAuto []bool
	// IsAutoList is is_auto_list; empty means no filter.
	IsAutoList []bool
	// Searches are the search terms, trimmed and non-empty; all must match.
	Searches []string
	// Ordering is the sort keys in order, each field at most once; empty
	// means ascending bk_process_id.
	Ordering []OrderKey
	// Fields is the set of keys each list item holds; 0 means all.
	Fields record.FieldSet
	// Offset is the number of matches to skip: (page-1) × Limit, saturated
	// at math.MaxUint64.
	Offset uint64
	// Limit is the page size, 1..MaxPageSize.
	Limit int
	// Facets are the facet fields asked (an extension), each once, in
	// request order; empty means none.
	Facets []string
	// FacetLimit is the number of values each facet lists, 1..MaxFacetLimit.
	FacetLimit int
	// Cursor is set when the request pages by cursor ("after"); After is
	// then the position to start after, nil for the first page, and
	// Offset is 0. Sig is the signature cursors of this request carry.
	Cursor bool
	After  *Cursor
	Sig    uint64
	// Explain asks the engine for the steps of its answer. It is not read
	// from the body (which stays GSEKit's): the caller sets it.
	Explain bool
}

// Scope is the scope object of a request (SPEC section 3). An empty list
// means no filter on that field.
type Scope struct {
	// Env is bk_set_env, "0".."3"; "0" means every environment.
	Env string
	// SetIDs is bk_set_ids.
	SetIDs []int64
	// ModuleIDs is bk_module_ids.
	ModuleIDs []int64
	// ServiceIDs is bk_service_ids, matched against service_instance_id.
	ServiceIDs []int64
	// ProcessNames is bk_process_names, exact strings.
	ProcessNames []string
	// ProcessIDs is bk_process_ids.
	ProcessIDs []int64
}

// ExprScope is the expression_scope object of a request (SPEC section 4).
// Each expression is its raw text trimmed of ASCII white space; "" means
// absent, null or blank, which all stand for "*". ParseRequest also
// compiles them: Compiled is never nil in a parsed Query.
type ExprScope struct {
	// Env is bk_set_env, "0".."3"; "0" means every environment.
	Env string
	// SetName is the bk_set_name expression.
	SetName string
	// ModuleName is the bk_module_name expression.
	ModuleName string
	// ServiceInstanceName is the service_instance_name expression, matched
	// against bk_service_name.
	ServiceInstanceName string
	// ProcessName is the bk_process_name expression.
	ProcessName string
	// ProcessID is the bk_process_id expression or slice.
	ProcessID string
	// Compiled is the five expressions compiled.
	Compiled *CompiledScope
}

// CompiledScope is an expression_scope's expressions compiled by package
// expr. Patterns are immutable and safe for concurrent use.
type CompiledScope struct {
	// SetName, ModuleName, ServiceInstanceName and ProcessName are the
	// compiled name expressions.
	SetName, ModuleName, ServiceInstanceName, ProcessName *expr.Pattern
	// ProcessID is the compiled bk_process_id pattern; nil when the field
	// is a slice.
	ProcessID *expr.Pattern
	// Slice is the bk_process_id slice; nil when the field is a pattern.
	Slice *expr.Slice
}

// OrderKey is one sort key of ordering.
type OrderKey struct {
	// Field is the record field sorted on.
	Field record.Field
	// Desc is true for a descending key (written with a leading '-').
	Desc bool
}

// orderFields are the keys ordering accepts.
var orderFields = map[string]record.Field{
	"id":              record.FieldID,
	"bk_set_id":       record.FieldSetID,
	"bk_module_id":    record.FieldModuleID,
	"bk_process_name": record.FieldProcessName,
	"bk_process_id":   record.FieldProcessID,
	"bk_host_innerip": record.FieldInnerIP,
}

// asciiSpace is the ASCII white space trimmed from search terms,
// expressions, ordering keys.
const asciiSpace = " \t\n\v\f\r"

func trimSpace(s string) string { return strings.Trim(s, asciiSpace) }

// ParseRequest decodes, validates and compiles a request body. The error,
// when not nil, is an *Error in the order of SPEC section 10: CodeValidation
// (the first broken rule in the order of the fields of SPEC section 2),
// then CodeExprSyntax (the first of the five expressions, in the order of
// SPEC section 4, that does not parse), then CodeSlice.
func ParseRequest(body []byte) (*Query, error) {
	q, e := parse(body)
	if e == nil && q.Expr != nil {
		q.Expr.Compiled, e = compileScope(q.Expr)
	}
	if e != nil {
		return nil, e
	}
	return q, nil
}

// compileScope compiles the five expressions of x. A slice is always a
// valid bracket word, so parsing bk_process_id as a pattern first keeps
// syntax errors (in any field) before slice errors.
func compileScope(x *ExprScope) (*CompiledScope, *Error) {
	c := &CompiledScope{}
	fields := []struct {
		name string
		text string
		dst  **expr.Pattern
	}{
		{"bk_set_name", x.SetName, &c.SetName},
		{"bk_module_name", x.ModuleName, &c.ModuleName},
		{"service_instance_name", x.ServiceInstanceName, &c.ServiceInstanceName},
		{"bk_process_name", x.ProcessName, &c.ProcessName},
		{"bk_process_id", x.ProcessID, &c.ProcessID},
	}
	for _, f := range fields {
		p, err := expr.Parse(f.text)
		if err != nil {
			return nil, exprError(CodeExprSyntax, f.name, err)
		}
		*f.dst = p
	}
	sl, isSlice, err := expr.ParseSlice(x.ProcessID)
	if err != nil {
		return nil, exprError(CodeSlice, "bk_process_id", err)
	}
	if isSlice {
		c.ProcessID, c.Slice = nil, &sl
	}
	return c, nil
}

func exprError(code int, field string, err error) *Error {
	return &Error{Code: code, Message: "expression_scope." + field + ": " + err.Error()}
}

// present returns the member key of obj unless it is absent or null.
func present(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return nil, false
	}
	return raw, true
}

func parse(body []byte) (*Query, *Error) {
	top, e := decodeObject(body)
	if e != nil {
		return nil, e
	}
	q := &Query{}
	for _, step := range []func(map[string]json.RawMessage, *Query) *Error{
		parseBizAndScope, parseFilters, parseView, parsePage, parseExtensions,
	} {
		if e := step(top, q); e != nil {
			return nil, e
		}
	}
	return q, nil
}

// decodeObject decodes body into its top-level members, or says why it is
// not a JSON object.
func decodeObject(body []byte) (map[string]json.RawMessage, *Error) {
	const bodyPath = "request body"
	body = bytes.Trim(body, " \t\r\n")
	if len(body) == 0 {
		return nil, invalid(bodyPath, "is empty, must be a JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, invalid(bodyPath, "malformed JSON at byte "+strconv.FormatInt(syn.Offset, 10)+": "+syn.Error())
		}
		if body[0] == '{' {
			// Not reachable with valid JSON; kept so no input is accepted
			// unchecked.
			return nil, invalid(bodyPath, "malformed JSON: "+err.Error())
		}
	}
	if body[0] != '{' {
		return nil, invalid(bodyPath, "must be an object, got "+kindOf(body))
	}
	return top, nil
}

// parseBizAndScope reads bk_biz_id and then scope or expression_scope.
func parseBizAndScope(top map[string]json.RawMessage, q *Query) *Error {
	var e *Error
	raw, ok := present(top, "bk_biz_id")
	if !ok {
		return invalid("bk_biz_id", "is required")
	}
	if q.BizID, e = asInt("bk_biz_id", raw); e != nil {
		return e
	}
	if raw, ok := present(top, "scope"); ok {
		q.Scope, e = parseScope(raw)
		return e
	}
	if raw, ok := present(top, "expression_scope"); ok {
		q.Expr, e = parseExprScope(raw)
		return e
	}
	return invalid("scope", "one of scope and expression_scope is required")
}

// parseFilters reads the optional filters: cloud ids, IPs, statuses,
// is_auto and searches.
func parseFilters(top map[string]json.RawMessage, q *Query) *Error {
	var e *Error
	if raw, ok := present(top, "bk_cloud_ids"); ok {
		if q.CloudIDs, e = intList("bk_cloud_ids", raw); e != nil {
			return e
		}
	}
	if raw, ok := present(top, "bk_host_innerips"); ok {
		if q.InnerIPs, e = stringList("bk_host_innerips", raw); e != nil {
			return e
		}
		q.InnerIPs = dedup(q.InnerIPs)
	}
	if raw, ok := present(top, "process_status"); ok {
		n, e := asStatus("process_status", raw)
		if e != nil {
			return e
		}
		q.Status = []int64{n}
	}
	if raw, ok := present(top, "process_status_list"); ok {
		if q.StatusList, e = statusList(raw); e != nil {
			return e
		}
	}
	if raw, ok := present(top, "is_auto"); ok {
		v, e := asBool("is_auto", raw)
		if e != nil {
			return e
		}
		q.IsAuto = []bool{v}
	}
	if raw, ok := present(top, "is_auto_list"); ok {
		if q.IsAutoList, e = boolList("is_auto_list", raw); e != nil {
			return e
		}
	}
	if raw, ok := present(top, "searches"); ok {
		q.Searches, e = parseSearches(raw)
	}
	return e
}

// statusList decodes process_status_list, its duplicates dropped.
func statusList(raw json.RawMessage) ([]int64, *Error) {
	items, e := asList("process_status_list", raw)
	if e != nil || len(items) == 0 {
		return nil, e
	}
	list := make([]int64, len(items))
	for i, it := range items {
		if list[i], e = asStatus(elem("process_status_list", i), it); e != nil {
			return nil, e
		}
	}
	return dedup(list), nil
}

// parseView reads ordering and fields.
func parseView(top map[string]json.RawMessage, q *Query) *Error {
	var e *Error
	if raw, ok := present(top, "ordering"); ok {
		if q.Ordering, e = parseOrdering(raw); e != nil {
			return e
		}
	}
	if raw, ok := present(top, "fields"); ok {
		q.Fields, e = parseFields(raw)
	}
	return e
}

// parsePage reads the required page and pagesize into Offset and Limit;
// a cursor request ("after") needs no page.
func parsePage(top map[string]json.RawMessage, q *Query) *Error {
	if _, ok := present(top, "after"); ok {
		size, e := positive(top, "pagesize")
		q.Limit = int(min(size, MaxPageSize))
		return e
	}
	page, e := positive(top, "page")
	if e != nil {
		return e
	}
	size, e := positive(top, "pagesize")
	if e != nil {
		return e
	}
	q.Limit = int(min(size, MaxPageSize))
	hi, lo := bits.Mul64(uint64(page-1), uint64(q.Limit))
	if hi != 0 {
		lo = math.MaxUint64
	}
	q.Offset = lo
	return nil
}

// positive decodes the required integer member key, at least 1.
func positive(top map[string]json.RawMessage, key string) (int64, *Error) {
	raw, ok := present(top, key)
	if !ok {
		return 0, invalid(key, "is required")
	}
	n, e := asInt(key, raw)
	if e != nil {
		return 0, e
	}
	if n < 1 {
		return 0, rangeError(key, ">= 1", raw)
	}
	return n, nil
}

// asStatus decodes a process status at path: 0, 1 or 2.
func asStatus(path string, raw json.RawMessage) (int64, *Error) {
	n, e := asInt(path, raw)
	if e != nil {
		return 0, e
	}
	if n < 0 || n > 2 {
		return 0, rangeError(path, "0, 1 or 2", raw)
	}
	return n, nil
}

// asEnv decodes bk_set_env at path: "0".."3" as a string or 0..3 as a JSON
// integer, returned as the string.
func asEnv(path string, raw json.RawMessage) (string, *Error) {
	switch kindOf(raw) {
	case "string":
		s, _ := decodeString(raw)
		if len(s) == 1 && s[0] >= '0' && s[0] <= '3' {
			return s, nil
		}
	case "integer":
		if n, st := parseInt(raw); st == intOK && n >= 0 && n <= 3 {
			return string(rune('0' + n)), nil
		}
	default:
		return "", typeError(path, "a string or an integer", raw)
	}
	return "", rangeError(path, `"0", "1", "2" or "3"`, raw)
}

func parseScope(raw json.RawMessage) (*Scope, *Error) {
	obj, e := asObject("scope", raw)
	if e != nil {
		return nil, e
	}
	s := &Scope{Env: "3"}
	if raw, ok := present(obj, "bk_set_env"); ok {
		if s.Env, e = asEnv("scope.bk_set_env", raw); e != nil {
			return nil, e
		}
	}
	ints := []struct {
		key string
		dst *[]int64
	}{
		{"bk_set_ids", &s.SetIDs},
		{"bk_module_ids", &s.ModuleIDs},
		{"bk_service_ids", &s.ServiceIDs},
	}
	for _, f := range ints {
		if raw, ok := present(obj, f.key); ok {
			if *f.dst, e = intList("scope."+f.key, raw); e != nil {
				return nil, e
			}
		}
	}
	if raw, ok := present(obj, "bk_process_names"); ok {
		if s.ProcessNames, e = stringList("scope.bk_process_names", raw); e != nil {
			return nil, e
		}
		s.ProcessNames = dedup(s.ProcessNames)
	}
	if raw, ok := present(obj, "bk_process_ids"); ok {
		if s.ProcessIDs, e = intList("scope.bk_process_ids", raw); e != nil {
			return nil, e
		}
	}
	return s, nil
}

func parseExprScope(raw json.RawMessage) (*ExprScope, *Error) {
	obj, e := asObject("expression_scope", raw)
	if e != nil {
		return nil, e
	}
	x := &ExprScope{}
	raw, ok := present(obj, "bk_set_env")
	if !ok {
		return nil, invalid("expression_scope.bk_set_env", "is required")
	}
	if x.Env, e = asEnv("expression_scope.bk_set_env", raw); e != nil {
		return nil, e
	}
	exprs := []struct {
		key string
		dst *string
	}{
		{"bk_set_name", &x.SetName},
		{"bk_module_name", &x.ModuleName},
		{"service_instance_name", &x.ServiceInstanceName},
		{"bk_process_name", &x.ProcessName},
		{"bk_process_id", &x.ProcessID},
	}
	for _, f := range exprs {
		if raw, ok := present(obj, f.key); ok {
			s, e := asString("expression_scope."+f.key, raw)
			if e != nil {
				return nil, e
			}
			*f.dst = trimSpace(s)
		}
	}
	return x, nil
}

func parseSearches(raw json.RawMessage) ([]string, *Error) {
	terms, e := stringList("searches", raw)
	if e != nil {
		return nil, e
	}
	for i, t := range terms {
		terms[i] = trimSpace(t)
		if terms[i] == "" {
			return nil, invalid(elem("searches", i), "must not be blank, got "+quote(t))
		}
	}
	return dedup(terms), nil
}

func parseOrdering(raw json.RawMessage) ([]OrderKey, *Error) {
	text, e := asString("ordering", raw)
	if e != nil {
		return nil, e
	}
	text = trimSpace(text)
	if text == "" {
		return nil, nil
	}
	var keys []OrderKey
	var seen record.FieldSet
	for part := range strings.SplitSeq(text, ",") {
		k := trimSpace(part)
		if k == "" {
			return nil, invalid("ordering", "empty key in "+quote(text))
		}
		name, desc := strings.CutPrefix(k, "-")
		f, ok := orderFields[name]
		if !ok {
			return nil, invalid("ordering", "unknown key "+quote(k))
		}
		if seen.Has(f) {
			continue
		}
		seen = seen.With(f)
		keys = append(keys, OrderKey{Field: f, Desc: desc})
	}
	return keys, nil
}

func parseFields(raw json.RawMessage) (record.FieldSet, *Error) {
	names, e := stringList("fields", raw)
	if e != nil {
		return 0, e
	}
	var set record.FieldSet
	for i, n := range names {
		f, ok := record.FieldByName(n)
		if !ok {
			return 0, invalid(elem("fields", i), "unknown field "+quote(n))
		}
		set = set.With(f)
	}
	return set, nil
}

// dedup drops the repeated values of list in place, keeping the first of
// each in order: 100,000 copies of one status cost what one does.
func dedup[T comparable](list []T) []T {
	if len(list) < 2 {
		return list
	}
	seen := make(map[T]struct{}, min(len(list), 1024))
	out := list[:0]
	for _, v := range list {
		if _, ok := seen[v]; ok {
			continue
		}
		seen[v] = struct{}{}
		out = append(out, v)
	}
	return out
}

// quote is s as a JSON string, as messages quote names and terms.
func quote(s string) string { return string(appendString(nil, s)) }
