package synth

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/procq/procq/record"
)

const testProcesses = 20000

// digest hashes the JSON of every record Generate emits, in order.
func digest(t testing.TB, opt Options) ([32]byte, int) {
	t.Helper()
	h := sha256.New()
	n := 0
	var buf []byte
	err := Generate(opt, func(r *record.Record) error {
		buf = r.AppendJSON(buf[:0], 0)
		h.Write(buf)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, n
}

func TestDeterministic(t *testing.T) {
	const n = 10000
	a, got := digest(t, Options{Processes: n, Seed: 1})
	if got != n {
		t.Fatalf("emitted %d records, want %d", got, n)
	}
	b, _ := digest(t, Options{Processes: n, Seed: 1})
	if a != b {
		t.Fatal("same options gave different records")
	}
	c, _ := digest(t, Options{Processes: n, Seed: 2})
	if a == c {
		t.Fatal("different seeds gave identical records")
	}
}

func collect(t testing.TB, opt Options) []*record.Record {
	t.Helper()
	var out []*record.Record
	if err := Generate(opt, func(r *record.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecordsValid(t *testing.T) {
	recs := collect(t, Options{Processes: testProcesses, Seed: 3})
	if len(recs) != testProcesses {
		t.Fatalf("got %d records, want %d", len(recs), testProcesses)
	}
	pids := make(map[int64]bool, len(recs))
	type setInfo struct {
		biz        int64
		name, env  string
		moduleName map[string]int64
	}
	sets := map[int64]*setInfo{}
	modules := map[int64][2]any{} // module id -> {set id, name}
	services := map[int64][2]string{}
	sortedPIDs := true
	for i, r := range recs {
		if r.ProcessID <= 0 || pids[r.ProcessID] {
			t.Fatalf("record %d: bad or repeated bk_process_id %d", i, r.ProcessID)
		}
		pids[r.ProcessID] = true
		if i > 0 && r.ProcessID < recs[i-1].ProcessID {
			sortedPIDs = false
		}
		if r.ID <= 0 || r.SetID <= 0 || r.ModuleID <= 0 || r.ServiceInstanceID <= 0 || r.BizID <= 0 {
			t.Fatalf("record %d: non-positive id: %+v", i, r)
		}
		if r.Expression != r.DerivedExpression() {
			t.Fatalf("record %d: expression %q, derived %q", i, r.Expression, r.DerivedExpression())
		}
		if r.SetEnv != "1" && r.SetEnv != "2" && r.SetEnv != "3" {
			t.Fatalf("record %d: bk_set_env %q", i, r.SetEnv)
		}
		if r.ProcessStatus < 0 || r.ProcessStatus > 2 {
			t.Fatalf("record %d: process_status %d", i, r.ProcessStatus)
		}
		if n := len(r.ProcInstInfos); n < 1 || n > 2 {
			t.Fatalf("record %d: %d proc_inst_infos", i, n)
		}
		for j, p := range r.ProcInstInfos {
			if p.ProcessID != r.ProcessID || p.ProcessStatus != r.ProcessStatus || p.IsAuto != r.IsAuto ||
				p.LocalInstID != int64(j+1) || p.InstID <= 0 {
				t.Fatalf("record %d: proc_inst_info %d %+v inconsistent with record", i, j, p)
			}
		}
		if len(r.ConfigTemplates) > 3 {
			t.Fatalf("record %d: %d config templates", i, len(r.ConfigTemplates))
		}
		for _, c := range r.ConfigTemplates {
			if c.ConfigTemplateID <= 0 || c.TemplateName == "" || c.FileName == "" {
				t.Fatalf("record %d: config template %+v", i, c)
			}
		}
		if !r.HasServiceTemplate && (r.ServiceTemplateID != 0 || r.ProcessTemplateID != 0) {
			t.Fatalf("record %d: template ids without a service template", i)
		}
		if r.HasServiceTemplate && (r.ServiceTemplateID <= 0 || r.ProcessTemplateID <= 0) {
			t.Fatalf("record %d: templated record without template ids", i)
		}
		if r.InnerIP != "" && !strings.HasPrefix(r.ServiceName, r.InnerIP+"_") {
			t.Fatalf("record %d: service %q not named after host %q", i, r.ServiceName, r.InnerIP)
		}
		if r.CloudName == "" || r.SetName == "" || r.ModuleName == "" || r.ProcessName == "" {
			t.Fatalf("record %d: empty name: %+v", i, r)
		}
		// Topology is consistent: an id always carries the same names.
		s := sets[r.SetID]
		if s == nil {
			s = &setInfo{r.BizID, r.SetName, r.SetEnv, map[string]int64{}}
			sets[r.SetID] = s
		}
		if s.biz != r.BizID || s.name != r.SetName || s.env != r.SetEnv {
			t.Fatalf("record %d: set %d changes business, name or env", i, r.SetID)
		}
		if id, ok := s.moduleName[r.ModuleName]; ok && id != r.ModuleID {
			t.Fatalf("record %d: module name %q twice in set %q", i, r.ModuleName, r.SetName)
		}
		s.moduleName[r.ModuleName] = r.ModuleID
		m := [2]any{r.SetID, r.ModuleName}
		if old, ok := modules[r.ModuleID]; ok && old != m {
			t.Fatalf("record %d: module %d changes set or name", i, r.ModuleID)
		}
		modules[r.ModuleID] = m
		sv := [2]string{r.ServiceName, r.InnerIP}
		if old, ok := services[r.ServiceInstanceID]; ok && old != sv {
			t.Fatalf("record %d: service instance %d changes name or host", i, r.ServiceInstanceID)
		}
		services[r.ServiceInstanceID] = sv
	}
	if sortedPIDs {
		t.Error("bk_process_id is sequential in emission order")
	}
	// Ids are scattered, not dense counters.
	maxPID := int64(0)
	for pid := range pids {
		maxPID = max(maxPID, pid)
	}
	if maxPID < 1<<30 {
		t.Errorf("largest bk_process_id %d: ids are not spread out", maxPID)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestDistribution(t *testing.T) {
	recs := collect(t, Options{Processes: testProcesses, Seed: 1})
	n := float64(len(recs))
	var large, runningN, emptyIP, env3, auto, noTemplate, v6, agent, chineseProc, ids int
	clouds := map[int64]string{}
	bizs := map[int64]bool{}
	sets := map[int64]bool{}
	modules := map[int64]bool{}
	services := map[int64]int{}
	rowIDs := map[int64]bool{}
	hosts := map[string]map[int64]bool{}
	var chineseSet, chineseModule, chineseCloud bool
	for _, r := range recs {
		bizs[r.BizID] = true
		if r.BizID == LargeBizID {
			large++
		}
		if r.ProcessStatus == 1 {
			runningN++
		}
		if r.InnerIP == "" {
			emptyIP++
		} else {
			if hosts[r.InnerIP] == nil {
				hosts[r.InnerIP] = map[int64]bool{}
			}
			hosts[r.InnerIP][r.ServiceInstanceID] = true
		}
		if r.SetEnv == "3" {
			env3++
		}
		if r.IsAuto {
			auto++
		}
		if !r.HasServiceTemplate {
			noTemplate++
		}
		if r.InnerIPv6 != "" {
			v6++
		}
		if r.AgentID != "" {
			agent++
		}
		if hasHan(r.ProcessName) {
			chineseProc++
		}
		chineseSet = chineseSet || hasHan(r.SetName)
		chineseModule = chineseModule || hasHan(r.ModuleName)
		chineseCloud = chineseCloud || hasHan(r.CloudName)
		clouds[r.CloudID] = r.CloudName
		sets[r.SetID] = true
		modules[r.ModuleID] = true
		services[r.ServiceInstanceID]++
		if !rowIDs[r.ID] {
			ids++
		}
		rowIDs[r.ID] = true
		if !utf8.ValidString(r.Expression) {
			t.Fatalf("invalid UTF-8 in %q", r.Expression)
		}
	}
	within := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.4f, want in [%v, %v]", what, got, lo, hi)
		}
	}
	within("large business share", float64(large)/n, 0.80, 0.90)
	within("running share", float64(runningN)/n, 0.86, 0.94)
	within("empty IP share", float64(emptyIP)/n, 0.0005, 0.02)
	within("env 3 share", float64(env3)/n, 0.6, 0.9)
	within("is_auto share", float64(auto)/n, 0.8, 0.95)
	within("no service template share", float64(noTemplate)/n, 0.1, 0.4)
	within("IPv6 share", float64(v6)/n, 0.1, 0.3)
	within("agent id share", float64(agent)/n, 0.6, 0.8)
	within("unique row id share", float64(ids)/n, 0.97, 0.999)
	within("Chinese process name share", float64(chineseProc)/n, 0.02, 0.5)
	if len(bizs) < 5 {
		t.Errorf("%d businesses, want >= 5", len(bizs))
	}
	if len(clouds) < 3 || clouds[0] != "default area" {
		t.Errorf("clouds %v: want >= 3 with 0 the default area", clouds)
	}
	if len(sets) < 100 || len(modules) < 1000 {
		t.Errorf("%d sets and %d modules, want hundreds and thousands", len(sets), len(modules))
	}
	if !chineseSet || !chineseModule || !chineseCloud {
		t.Errorf("Chinese names: set %v module %v cloud %v", chineseSet, chineseModule, chineseCloud)
	}
	maxProcs := 0
	for _, c := range services {
		maxProcs = max(maxProcs, c)
	}
	if maxProcs != 5 {
		t.Errorf("most processes in a service instance: %d, want 5", maxProcs)
	}
	multi := 0
	for _, sis := range hosts {
		if len(sis) > 1 {
			multi++
		}
	}
	within("hosts with several service instances", float64(multi)/float64(len(hosts)), 0.6, 1)
}

func TestCountsAndErrors(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100, 257, 513} {
		got := 0
		if err := Generate(Options{Processes: n, Seed: 5}, func(*record.Record) error {
			got++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("Processes %d: emitted %d", n, got)
		}
	}
	if err := Generate(Options{Processes: -1}, func(*record.Record) error { return nil }); err == nil {
		t.Error("negative Processes accepted")
	}
	if err := Generate(Options{Processes: 1}, nil); err == nil {
		t.Error("nil emit accepted")
	}
	stop := errors.New("stop")
	calls := 0
	err := Generate(Options{Processes: 1000, Seed: 1}, func(*record.Record) error {
		calls++
		if calls == 300 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 300 {
		t.Errorf("emit error: got %v after %d calls, want stop after 300", err, calls)
	}
}

func TestRequests(t *testing.T) {
	opt := Options{Processes: 10000, Seed: 1}
	reqs, err := Requests(opt, 1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1000 {
		t.Fatalf("got %d requests", len(reqs))
	}
	again, err := Requests(opt, 1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(reqs, again, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatal("same arguments gave different requests")
	}
	large := 0
	all := ""
	orderings := map[string]bool{}
	for i, body := range reqs {
		var req map[string]json.RawMessage
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("request %d %s: %v", i, body, err)
		}
		var biz, page, size int64
		for key, dst := range map[string]*int64{"bk_biz_id": &biz, "page": &page, "pagesize": &size} {
			if err := json.Unmarshal(req[key], dst); err != nil {
				t.Fatalf("request %d %s: %s: %v", i, body, key, err)
			}
		}
		if page < 1 || size < 1 {
			t.Fatalf("request %d %s: bad paging", i, body)
		}
		if req["scope"] == nil && req["expression_scope"] == nil {
			t.Fatalf("request %d %s: neither scope nor expression_scope", i, body)
		}
		if biz == LargeBizID {
			large++
		}
		var ord string
		if req["ordering"] != nil {
			if err := json.Unmarshal(req["ordering"], &ord); err != nil {
				t.Fatal(err)
			}
			for _, k := range strings.Split(ord, ",") {
				orderings[k] = true
			}
		}
		all += string(body) + "\n"
	}
	if large < 700 {
		t.Errorf("%d of 1000 requests target the large business", large)
	}
	for _, k := range orderingKeys {
		if !orderings[k] || !orderings["-"+k] {
			t.Errorf("ordering key %q not used both ways", k)
		}
	}
	for _, want := range []string{
		`"bk_set_ids":[`, `"bk_module_ids":[`, `"process_status"`, `"is_auto"`, `"bk_cloud_ids":[`,
		`"bk_host_innerips":[`, `"searches":["10.`, `"searches":["云区域"`, `"fields":[`,
		`"bk_set_name":"*","bk_module_name":"*","service_instance_name":"*","bk_process_name":"*","bk_process_id":"*"`,
		`"bk_set_name":"[`, `"service_instance_name":"*_gse_agent"`, `"bk_process_id":"[0:100]"`,
		`"scope":{"bk_set_env":"3"},"page"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no request contains %s", want)
		}
	}
	if !strings.Contains(all, `"bk_process_id":"[1-`) && !regexpRange(all) {
		t.Error("no numeric range on bk_process_id")
	}
	if _, err := Requests(opt, -1, 1); err == nil {
		t.Error("negative n accepted")
	}
	if reqs, err := Requests(Options{}, 20, 1); err != nil || len(reqs) != 20 {
		t.Errorf("empty data set: %d requests, %v", len(reqs), err)
	}
}

// regexpRange reports whether s holds a bk_process_id range like "[12-34]".
func regexpRange(s string) bool {
	const key = `"bk_process_id":"[`
	for {
		i := strings.Index(s, key)
		if i < 0 {
			return false
		}
		s = s[i+len(key):]
		end := strings.IndexByte(s, ']')
		if end > 0 && strings.Contains(s[:end], "-") && !strings.Contains(s[:end], ":") {
			return true
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	const n = 1_000_000
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		if err := Generate(Options{Processes: n, Seed: 1}, func(*record.Record) error {
			count++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("emitted %d", count)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

func BenchmarkRequests(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Requests(Options{Processes: 100000, Seed: 1}, 1000, 1); err != nil {
			b.Fatal(err)
		}
	}
}
