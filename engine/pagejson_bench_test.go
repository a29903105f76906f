package engine

import (
	"context"
	"strconv"
	"testing"

	"github.com/procq/procq/api"
)

// BenchmarkDoPage answers a page of 50, 200 and 1,000 items of the large
// business through the whole Do path (parse, query, envelope), side by
// side: "materialized" is Do as it was (Query's records, each written by
// record.AppendJSON), "columns" is Do (base rows written from the index's
// columns). PROCQ_BENCH_PROCESSES sets the data set (default 100000):
// go test ./engine -run '^$' -bench DoPage -count 6
func BenchmarkDoPage(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []int{50, 200, 1000} {
		body := []byte(`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"page":2,"pagesize":` + strconv.Itoa(n) + `}`)
		b.Run(strconv.Itoa(n)+"/materialized", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q, err := api.ParseRequest(body)
				if err != nil {
					b.Fatal(err)
				}
				res, err := e.Query(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, 0, 256+1024*len(res.Rows))
				api.AppendSuccess(buf, int(res.Count), res.Rows, res.Fields)
			}
		})
		b.Run(strconv.Itoa(n)+"/columns", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Do(ctx, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
