package store

import (
	"errors"
	"strings"
	"testing"
)

func TestParseOps(t *testing.T) {
	in := `{"op":"upsert","record":{"bk_process_id":5,"bk_set_name":"a"}}

{"op":"upsert","records":[{"bk_process_id":6},{"bk_process_id":7,"expression":"x"}]}
{"op":"delete","bk_process_id":5}
{"op":"delete","bk_process_ids":[6,9]}
{"op":"status","updates":[{"bk_process_id":7,"process_status":1,"is_auto":true},
  {"bk_process_id":7,"process_status":2,"is_auto":false,"proc_inst_infos":[]}]}
{"op":"status","updates":[{"bk_process_id":7,"process_status":0,"is_auto":true,"proc_inst_infos":null},{"bk_process_id":8,"process_status":1,"is_auto":true,"proc_inst_infos":[{"bk_process_id":8,"local_inst_id":1,"inst_id":3,"process_status":1,"is_auto":true}]}]}
`
	// One op per line: the status line spread over two lines is an error.
	if _, err := ParseOps(strings.NewReader(in), "c.jsonl"); err == nil || !strings.HasPrefix(err.Error(), "c.jsonl:6: ") {
		t.Fatalf("object over two lines: %v", err)
	}
	in = strings.Replace(in, "},\n  {", "},{", 1)
	ops, err := ParseOps(strings.NewReader(in), "c.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 10 {
		t.Fatalf("%d ops, want 10", len(ops))
	}
	if r := ops[0].Upsert; r == nil || r.ProcessID != 5 || r.SetName != "a" || r.Expression != r.DerivedExpression() {
		t.Errorf("op 0: %+v", ops[0])
	}
	if r := ops[2].Upsert; r == nil || r.Expression != "x" {
		t.Errorf("op 2: %+v", ops[2])
	}
	if ops[3].Delete != 5 || ops[4].Delete != 6 || ops[5].Delete != 9 {
		t.Errorf("deletes: %+v %+v %+v", ops[3], ops[4], ops[5])
	}
	if u := ops[6].Status; u == nil || u.ProcessID != 7 || u.ProcessStatus != 1 || !u.IsAuto || u.SetProcInstInfos {
		t.Errorf("op 6: %+v", ops[6].Status)
	}
	if u := ops[7].Status; !u.SetProcInstInfos || len(u.ProcInstInfos) != 0 {
		t.Errorf("op 7 ([] replaces the list): %+v", u)
	}
	if u := ops[8].Status; u.SetProcInstInfos {
		t.Errorf("op 8 (null keeps the list): %+v", u)
	}
	if u := ops[9].Status; !u.SetProcInstInfos || len(u.ProcInstInfos) != 1 || u.ProcInstInfos[0].InstID != 3 {
		t.Errorf("op 9: %+v", u)
	}
}

func TestParseOpsErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`[1]`, "not a JSON object"},
		{`{"op":"upsert"`, "unexpected end"},
		{`{"op":"upsert","record":{"bk_process_id":1}} x`, "invalid character"},
		{`{"bk_process_id":1}`, `"op" is missing`},
		{`{"op":"frob"}`, `unknown op "frob"`},
		{`{"op":1}`, "op: must be string"},
		{`{"op":"upsert"}`, `"record" or "records" is missing`},
		{`{"op":"upsert","record":{"bk_process_id":1},"records":[]}`, "not both"},
		{`{"op":"upsert","record":null}`, "not a JSON object"},
		{`{"op":"upsert","records":[{"bk_process_id":-1}]}`, "records[0]: invalid record: bk_process_id must be > 0"},
		{`{"op":"upsert","record":{"bk_process_id":"1"}}`, "record: invalid record"},
		{`{"op":"upsert","record":{"bk_process_id":1},"bk_process_id":1}`, `member "bk_process_id" does not belong`},
		{`{"op":"delete"}`, `"bk_process_id" or "bk_process_ids" is missing`},
		{`{"op":"delete","bk_process_ids":[1,0]}`, "bk_process_ids[1]: bk_process_id must be > 0"},
		{`{"op":"delete","bk_process_id":1.5}`, "bk_process_id: must be int64"},
		{`{"op":"status"}`, `"updates" is missing`},
		{`{"op":"status","updates":[{"process_status":1,"is_auto":true}]}`, "updates[0]: bk_process_id is missing"},
		{`{"op":"status","updates":[{"bk_process_id":1,"is_auto":true}]}`, "process_status is missing"},
		{`{"op":"status","updates":[{"bk_process_id":1,"process_status":1}]}`, "is_auto is missing"},
		{`{"op":"status","updates":[{"bk_process_id":1,"process_status":1,"is_auto":true,"extra":1}]}`, `unknown field "extra"`},
		{`{"op":"status","updates":[{"bk_process_id":1,"process_status":1,"is_auto":true,"proc_inst_infos":{}}]}`, "proc_inst_infos"},
	} {
		in := "{\"op\":\"delete\",\"bk_process_id\":1}\n\n" + c.line + "\n"
		ops, err := ParseOps(strings.NewReader(in), "f.jsonl")
		if err == nil || !errors.Is(err, ErrInvalidOp) || !strings.HasPrefix(err.Error(), "f.jsonl:3: ") ||
			!strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want f.jsonl:3: ... %s", c.line, err, c.want)
		}
		if ops != nil {
			t.Errorf("%s: ops returned with the error", c.line)
		}
	}
}

func TestParseOpKind(t *testing.T) {
	ops, err := ParseOp([]byte(`{"updates":[{"bk_process_id":3,"process_status":2,"is_auto":false}]}`), KindStatus)
	if err != nil || len(ops) != 1 || ops[0].Status.ProcessID != 3 {
		t.Fatalf("status without op: %+v, %v", ops, err)
	}
	if _, err := ParseOp([]byte(`{"op":"delete","bk_process_id":3}`), KindUpsert); !errors.Is(err, ErrInvalidOp) ||
		!strings.Contains(err.Error(), `op "delete" where "upsert" is expected`) {
		t.Fatalf("mismatched op: %v", err)
	}
	if ops, err := ParseOp([]byte(`{"bk_process_ids":[]}`), KindDelete); err != nil || len(ops) != 0 {
		t.Fatalf("empty delete: %+v, %v", ops, err)
	}
}
