// Package buildinfo reports what a procq binary was built from: module
// version, version-control commit and Go version, as the Go toolchain
// recorded them (runtime/debug.ReadBuildInfo). `procq version` prints
// it and the server exports it as the procq_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Unknown stands for a value the build did not record, such as the commit
// of a binary built outside a repository.
const Unknown = "unknown"

// Info describes the running binary.
type Info struct {
	// Version is the main module's version: a tag or pseudo-version for
	// `go install …@version`, "(devel)" for a build in a checkout.
	Version string
	// Commit is the version-control revision, Unknown when not recorded;
	// Modified is true when the work tree had uncommitted changes.
	Commit   string
	Modified bool
	// Time is the commit's time (RFC 3339), "" when not recorded.
	Time string
	// GoVersion is the Go release that built the binary.
	GoVersion string
}

// Get returns the build information of the running binary.
func Get() Info {
	info := Info{Version: Unknown, Commit: Unknown, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "vcs.time":
			info.Time = s.Value
		}
	}
	return info
}

// CommitLabel is Commit with "+dirty" when Modified.
func (i Info) CommitLabel() string {
	if i.Modified {
		return i.Commit + "+dirty"
	}
	return i.Commit
}
