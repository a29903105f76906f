package engine_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/snapshot"
)

// An API process loads a snapshot file once and answers raw request
// bodies from it; the engine is immutable and shared by every request.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "engine-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "procs.snap")
	w, err := snapshot.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range exampleRecords() {
		r.Expression = r.DerivedExpression()
		if err := w.Append(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		log.Fatal(err)
	}

	e, err := engine.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	out, err := e.Do(context.Background(), []byte(`{"bk_biz_id": 2, "scope": {"bk_set_env": "3"}, "process_status_list": [1],
		"fields": ["bk_process_id", "bk_process_name"], "page": 1, "pagesize": 10}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Len(), "records")
	fmt.Println(string(out))
	// Output:
	// 3 records
	// {"result":true,"code":0,"message":"","data":{"count":2,"list":[{"bk_process_name":"gse_agent","bk_process_id":101},{"bk_process_name":"nginx","bk_process_id":103}]}}
}
