package api_test

import (
	"errors"
	"fmt"

	"github.com/procq/procq/api"
	"github.com/procq/procq/record"
)

func ExampleParseRequest() {
	q, err := api.ParseRequest([]byte(`{
		"bk_biz_id": "2",
		"expression_scope": {"bk_set_env": 3, "bk_set_name": " 管控平台 ", "bk_process_id": "[0:10]"},
		"ordering": "-bk_set_id, id",
		"page": 2, "pagesize": 5000
	}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(q.BizID, q.Expr.Env, q.Expr.SetName, q.Expr.ProcessID)
	fmt.Println(q.Ordering[0].Field, q.Ordering[0].Desc, q.Offset, q.Limit)

	_, err = api.ParseRequest([]byte(`{"bk_biz_id": 2, "scope": {}, "page": 0, "pagesize": 10}`))
	var e *api.Error
	if errors.As(err, &e) {
		fmt.Println(string(api.AppendError(nil, e)))
	}
	// Output:
	// 2 3 管控平台 [0:10]
	// bk_set_id true 1000 1000
	// {"result":false,"code":4100001,"message":"page: must be >= 1, got 0","data":null}
}

func ExampleAppendSuccess() {
	recs := []*record.Record{{ProcessID: 7409, SetName: "管控平台"}}
	fields := record.FieldSet(0).With(record.FieldProcessID).With(record.FieldSetName)
	fmt.Println(string(api.AppendSuccess(nil, 12, recs, fields)))
	// Output:
	// {"result":true,"code":0,"message":"","data":{"count":12,"list":[{"bk_set_name":"管控平台","bk_process_id":7409}]}}
}
