package buildinfo

import (
	"runtime"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.GoVersion != runtime.Version() || i.Version == "" || i.Commit == "" {
		t.Fatalf("Get() = %+v", i)
	}
}

func TestCommitLabel(t *testing.T) {
	for _, c := range []struct {
		i    Info
		want string
	}{
		{Info{Commit: "abc"}, "abc"},
		{Info{Commit: "abc", Modified: true}, "abc+dirty"},
	} {
		if got := c.i.CommitLabel(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.i, got, c.want)
		}
	}
}
