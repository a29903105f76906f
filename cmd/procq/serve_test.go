package main

import (
	"strings"
	"testing"
)

// TestServeNeedsASource: serve without --snapshot, --data-dir or --demo is
// a usage error naming the three flags; --demo excludes the other two.
func TestServeNeedsASource(t *testing.T) {
	for _, c := range []struct {
		args  []string
		code  int
		names []string
	}{
		{nil, 2, []string{"--snapshot", "--data-dir", "--demo"}},
		{[]string{"--addr", "127.0.0.1:0"}, 2, []string{"--snapshot", "--data-dir", "--demo"}},
		{[]string{"--demo", "--snapshot", "x.snap"}, 1, []string{"--demo excludes"}},
		{[]string{"--demo", "--data-dir", "d"}, 1, []string{"--demo excludes"}},
	} {
		r := procq(t, "", append([]string{"serve"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("serve %v: exit %d, want %d: %s", c.args, r.code, c.code, r.stderr)
		}
		for _, n := range c.names {
			if !strings.Contains(r.stderr, n) {
				t.Errorf("serve %v: stderr does not name %s: %s", c.args, n, r.stderr)
			}
		}
	}
}
