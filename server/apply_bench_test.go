package server

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"testing"
)

// applyBody returns a change file of about size bytes: delete lines of
// 1,000 ids each that name no process, so that applying it costs little
// and reading and parsing the body dominate.
func applyBody(size int) []byte {
	var b bytes.Buffer
	for id := int64(1 << 40); b.Len() < size; {
		b.WriteString(`{"op":"delete","bk_process_ids":[`)
		for i := range 1000 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, id)
			id++
		}
		b.WriteString("]}\n")
	}
	return b.Bytes()
}

// heapPeak samples the live heap while it runs and returns its largest
// value above the heap at the start; the sampling makes it a lower bound.
func heapPeak(f func()) uint64 {
	runtime.GC()
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { rtmetrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			default:
				runtime.Gosched()
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return max(peak, read()) - base
}

// BenchmarkAdminApplyBody posts a 72 MB change file to /admin/apply in
// process and reports the heap it costs above the body itself
// (peak-heap-MB, sampled) and the bytes allocated (-benchmem).
//
//	go test ./server -run '^$' -bench AdminApplyBody -benchmem -benchtime 3x
func BenchmarkAdminApplyBody(b *testing.B) {
	body := applyBody(72 << 20)
	s, _ := newDataDirServer(b, Config{MaxAdminBodyBytes: 256 << 20}, 100)
	var peak uint64
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		peak = max(peak, heapPeak(func() {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/admin/apply", bytes.NewReader(body)))
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"changed":0`) {
				b.Fatalf("apply: %d %.300s", rec.Code, rec.Body)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
