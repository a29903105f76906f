package match

import (
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/record"
)

func TestIPOrder(t *testing.T) {
	ordered := []string{"0.0.0.0", "1.2.3.4", "9.9.9.9", "10.0.0.1", "10.0.0.10", "192.168.1.2", "255.255.255.255",
		"1.2.3", "1.2.3.4.5", "10.0.0.01", "300.1.1.1", "::1", "abc", ""}
	for i := 1; i < len(ordered); i++ {
		if a, b := IPSortKey(ordered[i-1]), IPSortKey(ordered[i]); a >= b {
			t.Errorf("IPSortKey(%q)=%q is not below IPSortKey(%q)=%q", ordered[i-1], a, ordered[i], b)
		}
		if c := IPKeyOf(ordered[i-1]).Compare(IPKeyOf(ordered[i])); c >= 0 {
			t.Errorf("IPKeyOf(%q).Compare(%q) = %d, want < 0", ordered[i-1], ordered[i], c)
		}
	}
}

func TestCompare(t *testing.T) {
	a := RowOf(&record.Record{ID: 2, ProcessID: 10, ProcessName: "b", InnerIP: "10.0.0.2"}, true)
	b := RowOf(&record.Record{ID: 1, ProcessID: 11, ProcessName: "b", InnerIP: "9.0.0.1"}, true)
	tests := []struct {
		keys []api.OrderKey
		want int
	}{
		{nil, -1},
		{[]api.OrderKey{{Field: record.FieldID}}, 1},
		{[]api.OrderKey{{Field: record.FieldID, Desc: true}}, -1},
		{[]api.OrderKey{{Field: record.FieldProcessName}}, -1},
		{[]api.OrderKey{{Field: record.FieldProcessName, Desc: true}}, -1},
		{[]api.OrderKey{{Field: record.FieldInnerIP}}, 1},
		{[]api.OrderKey{{Field: record.FieldProcessID, Desc: true}}, 1},
	}
	for _, tt := range tests {
		if got := Compare(tt.keys, &a, &b); got != tt.want {
			t.Errorf("Compare(%v) = %d, want %d", tt.keys, got, tt.want)
		}
	}
}
