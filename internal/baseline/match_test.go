package baseline

import "testing"

func TestIPSortKey(t *testing.T) {
	ordered := []string{"0.0.0.0", "1.2.3.4", "9.9.9.9", "10.0.0.1", "10.0.0.10", "192.168.1.2", "255.255.255.255",
		"1.2.3", "10.0.0.01", "300.1.1.1", "::1", "abc", ""}
	for i := 1; i < len(ordered); i++ {
		if a, b := ipSortKey(ordered[i-1]), ipSortKey(ordered[i]); a >= b {
			t.Errorf("ipSortKey(%q)=%q is not below ipSortKey(%q)=%q", ordered[i-1], a, ordered[i], b)
		}
	}
}
