package engine

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// benchEngine is built once per test binary from a synth data set of
// PROCQ_BENCH_PROCESSES processes (default 100000).
var benchEngine = sync.OnceValues(func() (*Engine, error) {
	n := synth.BenchProcesses()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
	if err != nil {
		return nil, err
	}
	return New(recs)
})

// benchQueries are representative requests on the large business.
var benchQueries = []struct{ name, body string }{
	{"env_only", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"page":1,"pagesize":50}`},
	{"status_auto_order_ip", `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"process_status":1,"is_auto":true,"ordering":"-bk_host_innerip","page":3,"pagesize":50}`},
	{"search_ip", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["10.0.1"],"page":1,"pagesize":50}`},
	{"search_cloud", `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"searches":["云区域"],"ordering":"bk_process_name","page":1,"pagesize":50}`},
	{"deep_page", `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"ordering":"bk_set_id,-bk_module_id","page":2000,"pagesize":100}`},
	{"expr_all", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0"},"page":1,"pagesize":50}`},
	{"expr_set_list", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_set_name":"[zone.76, cluster-4, db_cluster_26]"},"page":1,"pagesize":50}`},
	{"expr_suffix", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","service_instance_name":"*_gse_agent"},"page":1,"pagesize":50}`},
	{"expr_pid_range", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_process_id":"[1000-900000]"},"page":1,"pagesize":50}`},
	{"expr_pathological", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_set_name":"[1-1000000000]*","bk_process_id":"[1-1000000000]"},"page":1,"pagesize":50}`},
	{"expr_slice", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","bk_module_name":"*","bk_process_id":"[0:100]"},"ordering":"-bk_host_innerip","page":1,"pagesize":50}`},
	{"expr_ten_groups_services", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","service_instance_name":"[10, 127, 172].[0-255].[0-255].[1-254]_[gse, bk][_, -][a-z][!x]*[a-z, 0-9]*[1-65535, 80]"},"page":1,"pagesize":50}`},
	{"order_two_keys", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"ordering":"bk_process_name,-bk_module_id","page":1,"pagesize":50}`},
	{"order_two_keys_ip", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"ordering":"-bk_host_innerip,bk_set_id","page":3,"pagesize":50}`},
	{"deep_page_500", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"page":500,"pagesize":100}`},
	{"search_area", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["area"],"page":1,"pagesize":50}`},
	{"search_ip_fragment", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["10.1.140"],"page":1,"pagesize":50}`},
	{"expr_pid_wide", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_process_id":"[427940191-963942387]"},"page":1,"pagesize":50}`},
	{"expr_infix_services", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","service_instance_name":"*.14*_gse*"},"page":1,"pagesize":50}`},
	{"expr_ten_groups", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_module_name":"[a-z][a-z,1][a-z,2][a-z,3]*[a-z,4]*[!x][a,b,c,d]*[e-z]*[1-9,n]*[a-z]"},"page":1,"pagesize":50}`},
}

func BenchmarkQuery(b *testing.B) { benchmarkQueries(b, false) }

// BenchmarkQueryCold is BenchmarkQuery with the term cache emptied before
// every query, so expensive name patterns are matched each time.
func BenchmarkQueryCold(b *testing.B) { benchmarkQueries(b, true) }

func benchmarkQueries(b *testing.B, cold bool) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			body := []byte(q.body)
			if _, err := e.Do(ctx, body); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if cold {
					e.terms.reset()
				}
				if _, err := e.Do(ctx, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func (c *termCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
	c.order, c.bytes = nil, 0
}

// BenchmarkWithStatus applies status batches of 10k and 100k processes.
func BenchmarkWithStatus(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10000, 100000} {
		if n > e.Len() {
			continue
		}
		// Spread over the data, in no useful order (GSE reports by agent).
		ups := make([]record.StatusUpdate, n)
		step := e.Len() / n
		for i := range ups {
			r := e.ix.Record(uint32(i * step))
			ups[i] = record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: (r.ProcessStatus + 1) % 3, IsAuto: !r.IsAuto}
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(ups), func(i, j int) { ups[i], ups[j] = ups[j], ups[i] })
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.WithStatus(ups)
			}
		})
	}
}
