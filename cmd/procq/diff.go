package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

const diffUsage = "diff OLD.snap NEW.snap [--format lines|summary]"

// exitStatus is an error with its own exit status; err, when not nil, is
// printed.
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitStatus) Unwrap() error { return e.err }

// procChange is one changed process: op, its id, and for "changed" each
// changed field's old and new JSON values.
type procChange struct {
	op     string
	pid    int64
	fields [][3]string // name, old, new
	old    *record.Record
	new    *record.Record
}

// runDiff prints what changed between two snapshots: JSON Lines, one per
// changed process in bk_process_id order, then a summary on stderr. The
// old snapshot's records are held in memory, the new one is streamed.
func runDiff(args []string) error {
	fs := newFlags("diff")
	format := fs.String("format", "lines", "output `FORMAT`: lines (JSON Lines and the summary) or summary (the summary only, on stdout)")
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
			pos = append(pos, a)
		case (a == "--format" || a == "-format") && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		default:
			flags = append(flags, a)
		}
	}
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(pos) != 2 || (*format != "lines" && *format != "summary") {
		return usageErrorf("want OLD.snap NEW.snap and --format lines or summary")
	}
	changes, err := diffSnapshots(pos[0], pos[1])
	if err != nil {
		return &exitStatus{2, err}
	}
	out := bufio.NewWriter(os.Stdout)
	sum := os.Stderr
	if *format == "summary" {
		writeDiffSummary(out, changes)
	} else {
		var b []byte
		for _, c := range changes {
			b = appendChange(b[:0], c)
			out.Write(b) //nolint:errcheck // Flush reports it
		}
	}
	if err := out.Flush(); err != nil {
		return &exitStatus{2, err}
	}
	if *format != "summary" {
		writeDiffSummary(sum, changes)
	}
	if len(changes) > 0 {
		return &exitStatus{1, nil}
	}
	return nil
}

// diffSnapshots returns the changes from the snapshot at oldPath to the
// one at newPath, in bk_process_id order.
func diffSnapshots(oldPath, newPath string) ([]procChange, error) {
	old := map[int64]*record.Record{}
	if _, err := snapshot.Read(oldPath, func(r *record.Record) error {
		old[r.ProcessID] = r
		return nil
	}); err != nil {
		return nil, err
	}
	var changes []procChange
	seen := make(map[int64]bool, len(old))
	if _, err := snapshot.Read(newPath, func(r *record.Record) error {
		seen[r.ProcessID] = true
		o, ok := old[r.ProcessID]
		if !ok {
			changes = append(changes, procChange{op: "added", pid: r.ProcessID, new: r})
			return nil
		}
		if f := changedFields(o, r); len(f) > 0 {
			changes = append(changes, procChange{op: "changed", pid: r.ProcessID, fields: f, old: o, new: r})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for pid, o := range old {
		if !seen[pid] {
			changes = append(changes, procChange{op: "removed", pid: pid, old: o})
		}
	}
	slices.SortFunc(changes, func(a, b procChange) int { return cmp.Compare(a.pid, b.pid) })
	return changes, nil
}

// changedFields lists the fields whose JSON differs between a and b.
func changedFields(a, b *record.Record) [][3]string {
	var out [][3]string
	var ba, bb []byte
	for f := record.Field(0); f < record.FieldProcInstInfos+1; f++ {
		set := record.FieldSet(0).With(f)
		ba, bb = a.AppendJSON(ba[:0], set), b.AppendJSON(bb[:0], set)
		if bytes.Equal(ba, bb) {
			continue
		}
		key := len(f.String()) + 4 // {"name":
		out = append(out, [3]string{f.String(), string(ba[key : len(ba)-1]), string(bb[key : len(bb)-1])})
	}
	return out
}

// appendChange appends c as one JSON line.
func appendChange(b []byte, c procChange) []byte {
	b = fmt.Appendf(b, `{"op":%q,"bk_process_id":%d`, c.op, c.pid)
	if c.op == "changed" {
		b = append(b, `,"fields":{`...)
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `%q:[%s,%s]`, f[0], f[1], f[2])
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

// writeDiffSummary writes the counts of the changes: added, removed,
// changed, status flips by direction, moves between sets and modules.
func writeDiffSummary(w io.Writer, changes []procChange) {
	var added, removed, changed, setMoves, moduleMoves int
	flips := map[string]int{}
	for _, c := range changes {
		switch c.op {
		case "added":
			added++
		case "removed":
			removed++
		default:
			changed++
			if c.old.ProcessStatus != c.new.ProcessStatus {
				flips[fmt.Sprintf("%d->%d", c.old.ProcessStatus, c.new.ProcessStatus)]++
			}
			if c.old.SetID != c.new.SetID {
				setMoves++
			}
			if c.old.ModuleID != c.new.ModuleID {
				moduleMoves++
			}
		}
	}
	fmt.Fprintf(w, "added %d, removed %d, changed %d; moved between sets %d, between modules %d", added, removed, changed, setMoves, moduleMoves)
	keys := make([]string, 0, len(flips))
	for k := range flips {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "; status %s %d", k, flips[k])
	}
	fmt.Fprintln(w)
}
