package gsekit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/record"
)

// exampleRecords returns three processes of business 2.
func exampleRecords() []*record.Record {
	mk := func(pid int64, set, module, proc, ip string, status int64) *record.Record {
		return &record.Record{
			ID: pid, BizID: 2, ProcessID: pid, SetEnv: "3", SetID: 1, SetName: set,
			ModuleID: 10, ModuleName: module, ServiceInstanceID: pid, ServiceName: ip + "_" + proc,
			ProcessName: proc, InnerIP: ip, CloudName: "default area", ProcessStatus: status, IsAuto: true,
		}
	}
	return []*record.Record{
		mk(101, "管控平台", "gse", "gse_agent", "10.0.0.1", 1),
		mk(102, "管控平台", "gse", "gse_agent", "10.0.0.2", 2),
		mk(103, "PaaS平台", "nginx", "nginx", "10.0.0.3", 1),
	}
}

// An API process mounts the endpoint in the mux it already has. Route sends
// every accepted spelling of gsekit.Path to the handler (a doubled leading
// slash never reaches the mux, which would redirect it) and the rest to
// the mux. A Live lets a reload swap the data without a restart.
func ExampleNewHandler() {
	e, err := engine.New(exampleRecords())
	if err != nil {
		panic(err)
	}
	live := engine.NewLive(e)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "v1\n") })
	endpoint := gsekit.NewHandler(live.Load, gsekit.HandlerOptions{
		MaxBodyBytes: 64 << 10,
		Timeout:      2 * time.Second,
	})
	srv := httptest.NewServer(gsekit.Route(endpoint, mux))
	defer srv.Close()

	body := `{"bk_biz_id": 2, "scope": {"bk_set_env": "3"}, "process_status": 1,
		"fields": ["bk_process_id", "bk_set_name"], "page": 1, "pagesize": 10}`
	resp, err := http.Post(srv.URL+"//v2/gsekit/api/process/process_status", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))

	// A reload builds a new engine and swaps it in; requests already
	// running finish on the old one.
	e2, err := engine.New(exampleRecords()[:1])
	if err != nil {
		panic(err)
	}
	live.Store(e2)
	resp, err = http.Post(srv.URL+gsekit.Path, "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))

	resp, err = http.Get(srv.URL + gsekit.Path)
	if err != nil {
		panic(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// 200 {"result":true,"code":0,"message":"","data":{"count":2,"list":[{"bk_set_name":"管控平台","bk_process_id":101},{"bk_set_name":"PaaS平台","bk_process_id":103}]}}
	// 200 {"result":true,"code":0,"message":"","data":{"count":1,"list":[{"bk_set_name":"管控平台","bk_process_id":101}]}}
	// 405 {"result":false,"code":405,"message":"method GET not allowed: use POST","data":null}
}
