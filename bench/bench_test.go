package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/baseline"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

func synthRecords(t testing.TB, n int) []*record.Record {
	t.Helper()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// allEngines loads recs into procq and every baseline.
func allEngines(t *testing.T, recs []*record.Record) []Engine {
	t.Helper()
	p, err := baseline.NewProcq(recs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := baseline.NewSQLite(context.Background(), recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := baseline.NewBuntdb(recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	engines := []Engine{p, baseline.NewScan(recs), s, b}
	t.Cleanup(func() {
		for _, e := range engines {
			if err := e.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	return engines
}

// TestSuiteEnginesAgree is the suite's correctness test: on a small data
// set, every engine gives procq's count and page for every query, and the
// queries are not trivially empty.
func TestSuiteEnginesAgree(t *testing.T) {
	recs := synthRecords(t, 2000)
	suite, err := Suite(recs)
	if err != nil {
		t.Fatal(err)
	}
	engines := allEngines(t, recs)
	answers, err := Check(context.Background(), engines, suite, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for i, q := range suite {
		if names[q.Name] {
			t.Errorf("query name %s is used twice", q.Name)
		}
		names[q.Name] = true
		if answers[i].Count == 0 {
			t.Errorf("%s matches nothing: %s", q.Name, q.Body)
		}
		if len(answers[i].IDs) == 0 {
			t.Errorf("%s has an empty page: %s", q.Name, q.Body)
		}
	}
	for _, want := range []string{"env_only", "set_ids", "module_ids", "status_auto", "cloud_ids", "ip_list",
		"search_ip", "search_cloud", "deep_page", "fields", "expr_all", "expr_set_list", "expr_pid_range",
		"expr_suffix", "expr_slice", "expr_huge_range", "expr_ten_groups",
		"order_bk_host_innerip_asc", "order_bk_host_innerip_desc", "order_id_desc"} {
		if !names[want] {
			t.Errorf("suite lacks %s", want)
		}
	}
}

// TestEnginesAgreeEdgeCases covers request features the suite does not
// lean on: empty answers, pages past the end, slices with negative
// bounds, errors, process ids and names, IP lists with "".
func TestEnginesAgreeEdgeCases(t *testing.T) {
	recs := synthRecords(t, 1200)
	biz, _, _ := LargestBusiness(recs)
	r0, r1 := recs[3], recs[len(recs)/2]
	bodies := []string{
		`{"bk_biz_id":999999,"scope":{},"page":1,"pagesize":10}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0"},"page":100000,"pagesize":1000}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0","bk_process_ids":[PID0,PID1,PID1,12345]},"ordering":"-bk_process_name,id","page":1,"pagesize":10}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0","bk_process_names":["NAME0","nope"],"bk_service_ids":[SVC0,SVC1]},"page":1,"pagesize":10}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0"},"bk_host_innerips":["","IP1"],"ordering":"bk_host_innerip","page":1,"pagesize":20}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0"},"searches":["1","."],"process_status_list":[0,2],"is_auto_list":[true,false],"page":2,"pagesize":7}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0"},"searches":["%"],"page":1,"pagesize":7}`,
		`{"bk_biz_id":BIZ,"scope":{"bk_set_env":"0"},"searches":["DEFAULT"],"page":1,"pagesize":7}`,
		`{"bk_biz_id":BIZ,"expression_scope":{"bk_set_env":"0","bk_process_id":"[-30:-5]"},"ordering":"-bk_module_id","page":1,"pagesize":7}`,
		`{"bk_biz_id":BIZ,"expression_scope":{"bk_set_env":"3","bk_process_id":"[5:]"},"process_status":1,"bk_cloud_ids":[0],"page":3,"pagesize":9}`,
		`{"bk_biz_id":BIZ,"expression_scope":{"bk_set_env":"0","bk_module_name":"gse_*","bk_process_name":"[gse_agent, nginx]"},"bk_host_innerips":["IP1"],"page":1,"pagesize":9}`,
		`{"bk_biz_id":BIZ,"expression_scope":{"bk_set_env":"0","bk_set_name":"nothing-matches"},"page":1,"pagesize":9}`,
	}
	repl := strings.NewReplacer("BIZ", itoa(biz), "PID0", itoa(r0.ProcessID), "PID1", itoa(r1.ProcessID),
		"NAME0", r0.ProcessName, "SVC0", itoa(r0.ServiceInstanceID), "SVC1", itoa(r1.ServiceInstanceID), "IP1", r1.InnerIP)
	var suite []Query
	for i, b := range bodies {
		body := []byte(repl.Replace(b))
		q, err := api.ParseRequest(body)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		suite = append(suite, Query{Name: "edge" + itoa(int64(i)), Body: body, Q: q})
	}
	if _, err := Check(context.Background(), allEngines(t, recs), suite, nil); err != nil {
		t.Fatal(err)
	}

	// Expression errors come back as the API's errors from the one parsing
	// pass, before any engine sees the query.
	for body, code := range map[string]int{
		`{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_set_name":"[a"},"page":1,"pagesize":1}`:       api.CodeExprSyntax,
		`{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_process_id":"[0:1]x"},"page":1,"pagesize":1}`: api.CodeSlice,
	} {
		q, err := api.ParseRequest([]byte(body))
		var ae *api.Error
		if q != nil || !errors.As(err, &ae) || ae.Code != code {
			t.Errorf("%s: got %v, want code %d", body, err, code)
		}
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

// TestCheckReportsMismatch makes sure a wrong engine fails the check
// loudly, naming the query and the engine.
func TestCheckReportsMismatch(t *testing.T) {
	recs := synthRecords(t, 800)
	suite, err := Suite(recs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := baseline.NewProcq(recs)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(context.Background(), []Engine{p, offByOne{baseline.NewScan(recs)}}, suite[:3], nil)
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Mismatches) != 3 {
		t.Fatalf("got %v, want 3 mismatches", err)
	}
	if !strings.Contains(me.Mismatches[0], "env_only: off-by-one answers") {
		t.Errorf("mismatch does not name query and engine: %s", me.Mismatches[0])
	}
}

// offByOne is an engine whose counts are wrong by one.
type offByOne struct{ *baseline.Scan }

func (o offByOne) Name() string { return "off-by-one" }
func (o offByOne) Query(ctx context.Context, q *api.Query) (Answer, error) {
	a, err := o.Scan.Query(ctx, q)
	a.Count++
	return a, err
}

// TestRunQuick runs the whole benchmark on a tiny data set with two
// engines and checks the report and its two formats.
func TestRunQuick(t *testing.T) {
	var stages []string
	var prof bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Processes: 1500, Seed: 3, TempDir: t.TempDir(), Engines: []string{"scan"},
		Budget: time.Millisecond, MinRuns: 2, MaxRuns: 3,
		Progress: func(stage string, done, total int) {
			if len(stages) == 0 || stages[len(stages)-1] != stage {
				stages = append(stages, stage)
			}
		},
		CPUProfile: &prof, ProfileQuery: "env_only", ProfileFor: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 1500 || len(rep.Engines) != 2 || rep.Engines[0] != "procq" || rep.Profiled != "env_only" {
		t.Fatalf("report: %d records, engines %v, profiled %q", rep.Records, rep.Engines, rep.Profiled)
	}
	if prof.Len() == 0 {
		t.Error("empty CPU profile")
	}
	if got := strings.Join(stages, ","); got != "generate,procq load,check,time" {
		t.Errorf("stages %s", got)
	}
	for _, q := range rep.Queries {
		if len(q.Cells) != 2 || q.Cells[0].Runs < 2 || q.Cells[0].Ratio != 1 || q.Cells[1].Median <= 0 {
			t.Errorf("%s: cells %+v", q.Name, q.Cells)
		}
	}
	var md, js bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| env_only | ") || !strings.Contains(md.String(), "| query | count | procq | scan |") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Queries) != len(rep.Queries) {
		t.Errorf("JSON round trip: %v", err)
	}
}

func TestFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850: "850 ns", 12345: "12.3 µs", 4560000: "4.56 ms", 1234567890: "1.23 s", 123456789: "123 ms",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%d) = %q, want %q", d, got, want)
		}
	}
	for r, want := range map[float64]string{0.523: "0.52×", 3.4: "3.40×", 27.2: "27×", 1234.4: "1,234×"} {
		if got := Ratio(r); got != want {
			t.Errorf("Ratio(%v) = %q, want %q", r, got, want)
		}
	}
	if got := percentile([]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50); got != 5 {
		t.Errorf("median of 1..10 = %d", got)
	}
	if got := percentile([]time.Duration{1, 2, 3}, 99); got != 3 {
		t.Errorf("p99 of 1..3 = %d", got)
	}
}

// TestRunCancelled stops a run whose context is done.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Options{Processes: 300, Seed: 1, TempDir: t.TempDir(), Engines: []string{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
