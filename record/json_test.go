package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
)

// TestRoundTripConformanceRecords decodes every fixture line and encodes it
// again; the result must equal the input byte for byte.
func TestRoundTripConformanceRecords(t *testing.T) {
	f, err := os.Open("../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if got := r.AppendJSON(nil, 0); !bytes.Equal(got, sc.Bytes()) {
			t.Fatalf("line %d:\n got %s\nwant %s", n, got, sc.Bytes())
		}
	}
	if n == 0 {
		t.Fatal("no records read")
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"not object", `[1]`},
		{"missing pid", `{"bk_biz_id":1}`},
		{"zero pid", `{"bk_process_id":0}`},
		{"negative pid", `{"bk_process_id":-4}`},
		{"string pid", `{"bk_process_id":"4"}`},
		{"float status", `{"bk_process_id":4,"process_status":1.5}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Record
			err := json.Unmarshal([]byte(tc.in), &r)
			if err == nil {
				t.Fatalf("no error for %s", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestDerivedExpressionAndProjection(t *testing.T) {
	var r Record
	in := `{"bk_process_id":42,"bk_set_name":"管控平台","bk_module_name":"m","bk_service_name":"1.2.3.4_x","bk_process_name":"p\"q","service_template_id":null}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Expression != "管控平台.m.1.2.3.4_x.p\"q.42" {
		t.Fatalf("expression %q", r.Expression)
	}
	var s FieldSet
	s = s.With(FieldProcessName).With(FieldServiceTemplateID).With(FieldProcessName)
	got := string(r.AppendJSON(nil, s))
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	want := map[string]any{"service_template_id": nil, "bk_process_name": "p\"q"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v want %v", m, want)
	}
}

func TestAppendStringEscapes(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x1f\n\t\r", "中文 <>&", "\u2028", "bad\xffbyte"} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, got, err)
		}
		want := string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
		if back != want {
			t.Fatalf("%q round-tripped to %q", s, back)
		}
	}
}
