package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"testing"

	"github.com/procq/procq/record"
)

func keysOf(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeEnvelope checks that b is one JSON object holding exactly the
// envelope keys and returns its members.
func decodeEnvelope(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got, want := keysOf(env), []string{"code", "data", "message", "result"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("envelope keys %v, want %v", got, want)
	}
	return env
}

func testRecords() []*record.Record {
	return []*record.Record{
		{
			ID: 1, BizID: 2, ProcessID: 7409, SetName: "管控平台", ProcessName: `we"ird\name`,
			SetEnv: "3", InnerIP: "10.0.0.1", HasServiceTemplate: true, ServiceTemplateID: 96,
			ConfigTemplates: []record.ConfigTemplate{{ConfigTemplateID: 31, TemplateName: "redis", FileName: "redis.conf"}},
			ProcInstInfos:   []record.ProcInstInfo{{ProcessID: 7409, LocalInstID: 1, InstID: 12, ProcessStatus: 2, IsAuto: true}},
		},
		{ID: 2, BizID: 2, ProcessID: 7410},
	}
}

func TestAppendSuccess(t *testing.T) {
	recs := testRecords()
	only := record.FieldSet(0).With(record.FieldProcessID).With(record.FieldSetName)
	for _, c := range []struct {
		name   string
		count  int
		recs   []*record.Record
		fields record.FieldSet
		keys   int
	}{
		{"all fields", 5, recs, 0, len(recs[0].AppendJSON(nil, 0))},
		{"projected", 2, recs, only, 0},
		{"empty page", 9, nil, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("prefix")
			b := AppendSuccess(bytes.Clone(prefix), c.count, c.recs, c.fields)
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("prefix lost: %s", b)
			}
			env := decodeEnvelope(t, b[len(prefix):])
			if string(env["result"]) != "true" || string(env["code"]) != "0" || string(env["message"]) != `""` {
				t.Errorf("head %s %s %s", env["result"], env["code"], env["message"])
			}
			var data map[string]json.RawMessage
			if err := json.Unmarshal(env["data"], &data); err != nil {
				t.Fatal(err)
			}
			if got := keysOf(data); !reflect.DeepEqual(got, []string{"count", "list"}) {
				t.Fatalf("data keys %v", got)
			}
			var count int
			var list []map[string]json.RawMessage
			if err := json.Unmarshal(data["count"], &count); err != nil || count != c.count {
				t.Errorf("count %s, want %d", data["count"], c.count)
			}
			if err := json.Unmarshal(data["list"], &list); err != nil {
				t.Fatal(err)
			}
			if string(data["list"]) == "null" || len(list) != len(c.recs) {
				t.Fatalf("list %s, want %d items", data["list"], len(c.recs))
			}
			for i, item := range list {
				var want map[string]json.RawMessage
				if err := json.Unmarshal(c.recs[i].AppendJSON(nil, c.fields), &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(item, want) {
					t.Errorf("item %d = %v, want %v", i, item, want)
				}
				if c.fields == only && len(item) != 2 {
					t.Errorf("projected item has keys %v", keysOf(item))
				}
			}
		})
	}
	t.Run("exact bytes", func(t *testing.T) {
		got := string(AppendSuccess(nil, 3, nil, 0))
		want := `{"result":true,"code":0,"message":"","data":{"count":3,"list":[]}}`
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestAppendError(t *testing.T) {
	for _, e := range []*Error{
		{Code: CodeValidation, Message: `page: must be >= 1, got "-3"`},
		{Code: CodeExprSyntax, Message: "expression_scope.bk_process_name: 枚举表达式缺少`]`: [12"},
		{Code: CodeSlice, Message: "ctl\x00\x1f\n\r\t\\ \u2028 bad\xff\xfe utf-8"},
	} {
		b := AppendError(nil, e)
		env := decodeEnvelope(t, b)
		var msg string
		if err := json.Unmarshal(env["message"], &msg); err != nil {
			t.Fatal(err)
		}
		want := string(bytes.ToValidUTF8([]byte(e.Message), []byte("\uFFFD\uFFFD")))
		if msg != want || msg == "" {
			t.Errorf("message %q, want %q", msg, want)
		}
		if string(env["result"]) != "false" || string(env["data"]) != "null" {
			t.Errorf("result %s, data %s", env["result"], env["data"])
		}
		var code int
		if err := json.Unmarshal(env["code"], &code); err != nil || code != e.Code {
			t.Errorf("code %s, want %d", env["code"], e.Code)
		}
	}
	got := string(AppendError([]byte("x"), &Error{Code: CodeValidation, Message: `a: "b"`}))
	if want := `x{"result":false,"code":4100001,"message":"a: \"b\"","data":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	env := decodeEnvelope(t, AppendError(nil, nil))
	if string(env["message"]) == `""` {
		t.Error("nil error encoded with an empty message")
	}
}

// TestErrorFromParse checks that every validation error of the table
// encodes to a valid error envelope that round-trips its message.
func TestErrorFromParse(t *testing.T) {
	for _, c := range parseCases {
		if c.field == "" {
			continue
		}
		_, err := ParseRequest([]byte(c.body))
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("%s: %T", c.name, err)
		}
		env := decodeEnvelope(t, AppendError(nil, e))
		var msg string
		if err := json.Unmarshal(env["message"], &msg); err != nil || msg != e.Message {
			t.Errorf("%s: message %s, want %q", c.name, env["message"], e.Message)
		}
	}
}
