package api

import (
	"errors"
	"testing"
)

// FuzzParseRequest checks that no body panics ParseRequest, that a failure
// is always an *Error with one of the three codes and a message, and that a success is a
// well-formed Query (an expression_scope compiled, with exactly one of a
// bk_process_id pattern and a slice).
func FuzzParseRequest(f *testing.F) {
	for _, line := range readLines(f, "../testdata/requests.jsonl") {
		f.Add(line)
	}
	for _, c := range parseCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := ParseRequest(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if (e.Code != CodeValidation && e.Code != CodeExprSyntax && e.Code != CodeSlice) || e.Message == "" {
				t.Fatalf("error %d %q", e.Code, e.Message)
			}
			if q != nil {
				t.Fatal("query returned with an error")
			}
			return
		}
		if q == nil {
			t.Fatal("nil query without error")
		}
		if (q.Scope == nil) == (q.Expr == nil) {
			t.Fatalf("scope %v, expr %v: want exactly one", q.Scope, q.Expr)
		}
		if q.Limit < 1 || q.Limit > MaxPageSize {
			t.Fatalf("limit %d", q.Limit)
		}
		if q.Offset%uint64(q.Limit) != 0 && q.Offset != ^uint64(0) {
			t.Fatalf("offset %d is not a multiple of limit %d", q.Offset, q.Limit)
		}
		if len(q.Status) > 1 || len(q.IsAuto) > 1 {
			t.Fatalf("status %v, is_auto %v", q.Status, q.IsAuto)
		}
		for _, s := range append(append([]int64(nil), q.Status...), q.StatusList...) {
			if s < 0 || s > 2 {
				t.Fatalf("status %d", s)
			}
		}
		for _, s := range q.Searches {
			if s == "" || trimSpace(s) != s {
				t.Fatalf("search term %q", s)
			}
		}
		var seen [64]bool
		for _, k := range q.Ordering {
			if _, ok := orderFields[k.Field.String()]; !ok || seen[k.Field] {
				t.Fatalf("ordering %v", q.Ordering)
			}
			seen[k.Field] = true
		}
		env := ""
		if q.Scope != nil {
			env = q.Scope.Env
		} else {
			env = q.Expr.Env
			c := q.Expr.Compiled
			if c == nil || c.SetName == nil || c.ModuleName == nil || c.ServiceInstanceName == nil ||
				c.ProcessName == nil || (c.ProcessID == nil) == (c.Slice == nil) {
				t.Fatalf("expression_scope compiled as %+v", c)
			}
		}
		if len(env) != 1 || env[0] < '0' || env[0] > '3' {
			t.Fatalf("env %q", env)
		}
	})
}
