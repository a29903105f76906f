package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestMeterOffTerminal: off a terminal each ended stage is one line, the
// summary one more, no carriage return; a stage cut short by an error
// prints nothing, so the error stays the only line.
func TestMeterOffTerminal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages []string
		done   bool
		lines  []string
	}{
		{"two stages", []string{"reading a", "reading a", "writing b"}, true, []string{"import: reading a: ", "import: writing b: ", "import: 3 records in "}},
		{"failed in a stage", []string{"reading a"}, false, nil},
		{"no stage", nil, true, []string{"import: 3 records in "}},
	} {
		var b bytes.Buffer
		m := &meter{cmd: "import", w: &b, start: time.Now()}
		for i, s := range tc.stages {
			m.show(s, "records", int64(i), 10)
		}
		if tc.done {
			m.done("%d records", 3)
		}
		got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if b.Len() == 0 {
			got = nil
		}
		if len(got) != len(tc.lines) || strings.Contains(b.String(), "\r") {
			t.Fatalf("%s: %q, want lines starting %q", tc.name, b.String(), tc.lines)
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tc.lines[i]) {
				t.Errorf("%s: line %d %q, want prefix %q", tc.name, i, got[i], tc.lines[i])
			}
		}
	}
	var nilMeter *meter
	nilMeter.show("x", "records", 1, 2) // a nil meter shows nothing
	nilMeter.end()
}
