package main

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
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
// changed field's old and new JSON values and the old and new values the
// summary counts.
type procChange struct {
	op       string
	pid      int64
	fields   [][3]string // name, old, new
	old, new summaryValues
}

// summaryValues are the fields of a record the summary counts changes of.
type summaryValues struct{ status, set, module int64 }

// fieldValues is a record's JSON value of each field (its own memory:
// a decoded record shares its slab with its neighbours, which holding it
// would keep alive) and its summary values.
type fieldValues struct {
	json [record.FieldProcInstInfos + 1]string
	sum  summaryValues
}

// valuesOf returns r's field values; buf is scratch space, returned for
// reuse.
func valuesOf(r *record.Record, buf []byte) (*fieldValues, []byte) {
	v := &fieldValues{sum: summaryValues{r.ProcessStatus, r.SetID, r.ModuleID}}
	for f := range v.json {
		field := record.Field(f)
		buf = r.AppendJSON(buf[:0], record.FieldSet(0).With(field))
		key := len(field.String()) + 4 // {"name":
		v.json[f] = string(buf[key : len(buf)-1])
	}
	return v, buf
}

// runDiff prints what changed between two snapshots: JSON Lines, one per
// changed process in bk_process_id order, then a summary on stderr.
// Memory holds a digest per old process and the changes (diffSnapshots).
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
// one at newPath, in bk_process_id order. It holds one column of the old
// snapshot (each process's id and a 128-bit hash of its JSON), a bit per
// old process seen in the new one, and the changed processes' records,
// never a whole snapshot: the old snapshot is read twice (the second time
// for the old values of the changed processes, looked up by id in an
// index file), the new one once.
func diffSnapshots(oldPath, newPath string) ([]procChange, error) {
	old, err := readDigests(oldPath)
	if err != nil {
		return nil, err
	}
	seen := make([]uint64, (len(old)+63)/64)
	var changes []procChange
	changedNew := map[int64]*fieldValues{}
	var buf []byte
	if _, err := snapshot.Read(newPath, func(r *record.Record) error {
		i, ok := old.find(r.ProcessID)
		if !ok {
			changes = append(changes, procChange{op: "added", pid: r.ProcessID})
			return nil
		}
		seen[i>>6] |= 1 << (i & 63)
		var h digest
		if h, buf = digestOf(r, buf); h != old[i].h {
			changedNew[r.ProcessID], buf = valuesOf(r, buf)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for i, d := range old {
		if seen[i>>6]&(1<<(i&63)) == 0 && (i == 0 || old[i-1].pid != d.pid) {
			changes = append(changes, procChange{op: "removed", pid: d.pid})
		}
	}
	err = oldRecords(oldPath, changedNew, func(o *record.Record) {
		nv := changedNew[o.ProcessID]
		var ov *fieldValues
		ov, buf = valuesOf(o, buf)
		if f := changedFields(ov, nv); len(f) > 0 {
			changes = append(changes, procChange{op: "changed", pid: o.ProcessID, fields: f, old: ov.sum, new: nv.sum})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(changes, func(a, b procChange) int { return cmp.Compare(a.pid, b.pid) })
	return changes, nil
}

// oldRecords calls fn with the old snapshot's record of each process of
// want, once each. An index snapshot is read as an index and the
// records looked up by id; a version 1 snapshot is read through.
func oldRecords(path string, want map[int64]*fieldValues, fn func(*record.Record)) error {
	if len(want) == 0 {
		return nil
	}
	h, err := snapshot.ReadHeader(path)
	if err != nil {
		return err
	}
	if snapshot.IsIndex(h.Version) {
		ix, _, err := snapshot.ReadIndex(path)
		if err != nil {
			return err
		}
		for pid := range want {
			if row, ok := ix.RowOfProcess(pid); ok {
				fn(ix.Record(row))
			}
		}
		return nil
	}
	done := make(map[int64]bool, len(want))
	_, err = snapshot.Read(path, func(o *record.Record) error {
		if _, ok := want[o.ProcessID]; ok && !done[o.ProcessID] {
			done[o.ProcessID] = true
			fn(o)
		}
		return nil
	})
	return err
}

// digest is a 128-bit hash of a record's fields: two records with equal
// digests are taken to be equal (the odds of a false match are 2^-128 a
// process). Records whose digests differ may still have the same JSON
// (bk_service_template_id is null whatever its value without a
// template): changedFields decides.
type digest [2]uint64

// digestSeeds are this run's hash seeds.
var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// digestOf returns the digest of r, encoding its fields into buf
// (returned for reuse). Hashing the fields, not their JSON, makes the
// digest about 4 times cheaper (1M processes: 4.3 s of JSON a pass).
func digestOf(r *record.Record, buf []byte) (digest, []byte) {
	buf = appendFields(buf[:0], r)
	return digest{maphash.Bytes(digestSeeds[0], buf), maphash.Bytes(digestSeeds[1], buf)}, buf
}

// appendFields appends every field of r, each string and list preceded
// by its length, so that different records append different bytes.
// TestAppendFieldsCoversTheRecord fails when record.Record gains a field.
func appendFields(b []byte, r *record.Record) []byte {
	for _, v := range []int64{r.ID, r.BizID, r.CloudID, r.SetID, r.ModuleID, r.ServiceInstanceID, r.ProcessID,
		r.ProcessTemplateID, r.ProcessStatus, r.ServiceTemplateID, boolInt(r.HasServiceTemplate), boolInt(r.IsAuto),
		int64(len(r.ConfigTemplates)), int64(len(r.ProcInstInfos))} {
		b = binary.AppendVarint(b, v)
	}
	for _, s := range []string{r.Expression, r.InnerIP, r.InnerIPv6, r.AgentID, r.CloudName, r.SetEnv,
		r.SetName, r.ModuleName, r.ServiceName, r.ProcessName} {
		b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	for _, c := range r.ConfigTemplates {
		b = binary.AppendVarint(b, c.ConfigTemplateID)
		b = append(binary.AppendUvarint(b, uint64(len(c.TemplateName))), c.TemplateName...)
		b = append(binary.AppendUvarint(b, uint64(len(c.FileName))), c.FileName...)
	}
	for _, p := range r.ProcInstInfos {
		for _, v := range []int64{p.ProcessID, p.LocalInstID, p.InstID, p.ProcessStatus, boolInt(p.IsAuto)} {
			b = binary.AppendVarint(b, v)
		}
	}
	return b
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// pidDigest is one process of the old snapshot.
type pidDigest struct {
	pid int64
	h   digest
}

// digests is the old snapshot's column, in bk_process_id order.
type digests []pidDigest

// readDigests reads the digest of every process of the snapshot at path.
func readDigests(path string) (digests, error) {
	var d digests
	var buf []byte
	if _, err := snapshot.Read(path, func(r *record.Record) error {
		var h digest
		h, buf = digestOf(r, buf)
		d = append(d, pidDigest{r.ProcessID, h})
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(d, func(a, b pidDigest) int { return cmp.Compare(a.pid, b.pid) })
	return d, nil
}

// find returns the index of pid's first entry.
func (d digests) find(pid int64) (int, bool) {
	return slices.BinarySearchFunc(d, pid, func(e pidDigest, pid int64) int { return cmp.Compare(e.pid, pid) })
}

// changedFields lists the fields whose JSON differs between a and b.
func changedFields(a, b *fieldValues) [][3]string {
	var out [][3]string
	for f := range a.json {
		if a.json[f] != b.json[f] {
			out = append(out, [3]string{record.Field(f).String(), a.json[f], b.json[f]})
		}
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
			if c.old.status != c.new.status {
				flips[fmt.Sprintf("%d->%d", c.old.status, c.new.status)]++
			}
			if c.old.set != c.new.set {
				setMoves++
			}
			if c.old.module != c.new.module {
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
