package expr_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/procq/procq/api"
)

// The conformance fixture (../testdata) holds requests with answers from an
// independent reference implementation. This test mines the requests that
// use expression_scope. Each goes through api.ParseRequest, the one place
// expressions are compiled: syntax errors must agree with the 4111001
// answers (message included) and slice errors with the 4111003 ones, and
// for successful answers a minimal evaluator of the compiled patterns
// (SPEC sections 2-6) must reproduce the count and, when no ordering and
// no fields are asked for, the ids of the page. A missing fixture fails.

type fixRecord struct {
	BizID       int64  `json:"bk_biz_id"`
	SetEnv      string `json:"bk_set_env"`
	SetName     string `json:"bk_set_name"`
	ModuleName  string `json:"bk_module_name"`
	ServiceName string `json:"bk_service_name"`
	ProcessName string `json:"bk_process_name"`
	ProcessID   int64  `json:"bk_process_id"`
	CloudID     int64  `json:"bk_cloud_id"`
	CloudName   string `json:"bk_cloud_name"`
	InnerIP     string `json:"bk_host_innerip"`
	Status      int64  `json:"process_status"`
	IsAuto      bool   `json:"is_auto"`
}

type fixExpected struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		Count int64 `json:"count"`
		List  []struct {
			ProcessID int64 `json:"bk_process_id"`
		} `json:"list"`
	} `json:"data"`
}

func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConformance(t *testing.T) {
	var records []fixRecord
	for i, l := range readLines(t, "records.jsonl") {
		var r fixRecord
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("records.jsonl:%d: %v", i+1, err)
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool { return records[i].ProcessID < records[j].ProcessID })
	reqs, exps := readLines(t, "requests.jsonl"), readLines(t, "expected.jsonl")
	if len(reqs) != len(exps) {
		t.Fatalf("%d requests, %d answers", len(reqs), len(exps))
	}
	checked, errorsChecked := 0, 0
	for i := range reqs {
		var exp fixExpected
		if err := json.Unmarshal(exps[i], &exp); err != nil {
			t.Fatalf("expected.jsonl:%d: %v", i+1, err)
		}
		var req map[string]any
		d := json.NewDecoder(bytes.NewReader(reqs[i]))
		d.UseNumber()
		if d.Decode(&req) != nil || req == nil {
			continue
		}
		es, _ := req["expression_scope"].(map[string]any)
		if es == nil || req["scope"] != nil || exp.Code == 4100001 {
			continue
		}
		line := i + 1

		// Errors: syntax (4111001) in any field before the slice (4111003).
		q, err := api.ParseRequest(reqs[i])
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code == api.CodeValidation {
			t.Errorf("line %d: validation error %q, fixture says %d %q", line, ae.Message, exp.Code, exp.Message)
			continue
		}
		if exp.Code == api.CodeExprSyntax || exp.Code == api.CodeSlice || err != nil {
			errorsChecked++
			switch {
			case ae == nil || ae.Code != exp.Code:
				t.Errorf("line %d: got %v, fixture says %d %q", line, err, exp.Code, exp.Message)
			case exp.Code == api.CodeExprSyntax && ae.Message != exp.Message:
				t.Errorf("line %d: got syntax error %q, fixture says %q", line, ae.Message, exp.Message)
			}
			continue
		}
		if exp.Code != 0 || exp.Data == nil || q.Expr == nil {
			t.Errorf("line %d: fixture code %d unexpected here", line, exp.Code)
			continue
		}
		c := q.Expr.Compiled
		isSlice := c.Slice != nil

		// The expression result: biz, env, the five expressions, the slice.
		biz := fixInt(req["bk_biz_id"])
		env := fixText(es["bk_set_env"])
		var ids []int
		for k, r := range records {
			if r.BizID != biz || (env != "0" && r.SetEnv != env) {
				continue
			}
			if !c.SetName.Match(r.SetName) || !c.ModuleName.Match(r.ModuleName) ||
				!c.ServiceInstanceName.Match(r.ServiceName) || !c.ProcessName.Match(r.ProcessName) {
				continue
			}
			if !isSlice && !c.ProcessID.Match(strconv.FormatInt(r.ProcessID, 10)) {
				continue
			}
			ids = append(ids, k)
		}
		if isSlice {
			start, end := c.Slice.Bounds(len(ids))
			ids = ids[start:end]
		}

		// The other filters.
		var got []int64
		for _, k := range ids {
			if fixKeep(req, &records[k]) {
				got = append(got, records[k].ProcessID)
			}
		}
		checked++
		if int64(len(got)) != exp.Data.Count {
			t.Errorf("line %d: count %d, fixture says %d (%s)", line, len(got), exp.Data.Count, reqs[i])
			continue
		}
		fields, _ := req["fields"].([]any)
		if o, _ := req["ordering"].(string); strings.TrimSpace(o) == "" && len(fields) == 0 {
			page, size := fixInt(req["page"]), fixInt(req["pagesize"])
			size = min(size, 1000)
			var want, gotPage []int64
			for _, it := range exp.Data.List {
				want = append(want, it.ProcessID)
			}
			if off := (page - 1) * size; off < int64(len(got)) {
				gotPage = got[off:min(off+size, int64(len(got)))]
			}
			if len(want) != len(gotPage) || (len(want) > 0 && !equalInts(want, gotPage)) {
				t.Errorf("line %d: page %v, fixture says %v", line, gotPage, want)
			}
		}
	}
	if checked < 50 || errorsChecked < 2 {
		t.Errorf("only %d answers and %d errors checked", checked, errorsChecked)
	}
	t.Logf("%d answers and %d expression errors agree with the fixture", checked, errorsChecked)
}

func equalInts(a, b []int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fixKeep applies the request's filters other than the expression.
func fixKeep(req map[string]any, r *fixRecord) bool {
	if l, ok := req["bk_cloud_ids"].([]any); ok && len(l) > 0 && !anyInt(l, r.CloudID) {
		return false
	}
	if l, ok := req["bk_host_innerips"].([]any); ok && len(l) > 0 {
		found := false
		for _, v := range l {
			found = found || v == r.InnerIP
		}
		if !found {
			return false
		}
	}
	if v, ok := req["process_status"]; ok && v != nil && fixInt(v) != r.Status {
		return false
	}
	if l, ok := req["process_status_list"].([]any); ok && len(l) > 0 && !anyInt(l, r.Status) {
		return false
	}
	if v, ok := req["is_auto"].(bool); ok && v != r.IsAuto {
		return false
	}
	if l, ok := req["is_auto_list"].([]any); ok && len(l) > 0 {
		found := false
		for _, v := range l {
			found = found || v == r.IsAuto
		}
		if !found {
			return false
		}
	}
	if l, ok := req["searches"].([]any); ok {
		for _, v := range l {
			term := strings.TrimSpace(v.(string))
			if !strings.Contains(r.InnerIP, term) && !strings.Contains(r.CloudName, term) {
				return false
			}
		}
	}
	return true
}

func anyInt(l []any, v int64) bool {
	for _, x := range l {
		if fixInt(x) == v {
			return true
		}
	}
	return false
}

func fixInt(v any) int64 {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return -1 << 62
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1 << 62
	}
	return n
}

func fixText(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	}
	return ""
}
