package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzUnmarshal decodes arbitrary bytes as a record: it must never panic,
// and whatever it accepts must encode to JSON that decodes to the same
// record again.
func FuzzUnmarshal(f *testing.F) {
	if data, err := os.ReadFile("../testdata/records.jsonl"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for i := 0; sc.Scan() && i < 20; i++ {
			f.Add(bytes.Clone(sc.Bytes()))
		}
	}
	f.Add([]byte(`{"bk_process_id":1}`))
	f.Add([]byte(`{"bk_process_id":1,"service_template_id":null,"config_templates":[{"config_template_id":1}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		err := json.Unmarshal(data, &r)
		if err != nil {
			var se *json.SyntaxError
			if !errors.Is(err, ErrInvalid) && !errors.As(err, &se) && json.Valid(data) {
				// Valid JSON that is not a record must be reported as such.
				var ute *json.UnmarshalTypeError
				if !errors.As(err, &ute) {
					t.Fatalf("valid JSON %q rejected with an unexpected error: %v", data, err)
				}
			}
			return
		}
		out := r.AppendJSON(nil, 0)
		var back Record
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if again := back.AppendJSON(nil, 0); !bytes.Equal(again, out) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}
