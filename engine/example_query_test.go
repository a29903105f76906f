package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
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

// Linked into a process, the engine answers without HTTP: Do takes the
// raw request body and returns the response envelope, Query a parsed
// request and the records themselves. Both stop when the context ends.
func ExampleEngine_Query() {
	e, err := engine.New(exampleRecords())
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	q, err := api.ParseRequest([]byte(`{"bk_biz_id": 2,
		"expression_scope": {"bk_set_env": "3", "bk_set_name": "[管控平台, PaaS平台]", "bk_process_name": "gse_*"},
		"ordering": "-bk_host_innerip", "page": 1, "pagesize": 10}`))
	if err != nil {
		panic(err)
	}
	res, err := e.Query(ctx, q)
	if err != nil {
		panic(err)
	}
	fmt.Println("count", res.Count)
	for _, r := range res.Rows {
		fmt.Println(r.ProcessID, r.InnerIP, r.ProcessStatus)
	}

	// Do answers even a bad request with the envelope; its error tells
	// what kind of failure the envelope reports.
	out, err := e.Do(ctx, []byte(`{"bk_biz_id": 2, "expression_scope": {"bk_set_env": "3", "bk_set_name": "[管控平台"}, "page": 1, "pagesize": 10}`))
	var ae *api.Error
	if errors.As(err, &ae) {
		fmt.Println("code", ae.Code, strings.HasPrefix(string(out), `{"result":false,"code":4111001,`))
	}
	// Output:
	// count 2
	// 102 10.0.0.2 2
	// 101 10.0.0.1 1
	// code 4111001 true
}
