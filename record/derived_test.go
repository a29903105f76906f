package record

import "testing"

func TestHasDerivedExpression(t *testing.T) {
	base := Record{SetName: "s", ModuleName: "m", ServiceName: "10.0.0.1_a", ProcessName: "p", ProcessID: 42}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"s.m.10.0.0.1_a.p.42", true},
		{"s.m.10.0.0.1_a.p.4", false},
		{"s.m.10.0.0.1_a.p.420", false},
		{"s.m.10.0.0.1_a.q.42", false},
		{"s.m.10.0.0.1_a.p", false},
		{"", false},
	} {
		r := base
		r.Expression = tc.expr
		if got := r.HasDerivedExpression(); got != tc.want || tc.want != (tc.expr == r.DerivedExpression()) {
			t.Errorf("%q: HasDerivedExpression = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
