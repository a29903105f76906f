package index

import (
	"sync/atomic"

	"github.com/procq/procq/record"
)

// AppendRowJSON appends row as a JSON object holding the fields of s (all
// when s is zero): byte for byte what record.AppendJSON writes for
// ix.Record(row), with the current process_status, is_auto and
// proc_inst_infos, but read straight from the columns, so that it builds
// no record on the heap and allocates nothing. The scalars are read into
// a record on the stack first (RecordScalars: its loads are independent,
// so their cache misses overlap), then the row is written by appendRow
// as a jsonLayout of the fields says. Strings of a dictionary known to
// need no escaping (jsonVerbatim) are copied untested. BenchmarkPageJSON
// compares it with Records and record.AppendJSON; AppendRowsJSON writes
// many rows faster.
func (ix *Index) AppendRowJSON(b []byte, row uint32, s record.FieldSet) []byte {
	s = s.OrAll()
	var r record.Record
	ix.RecordScalars(row, &r)
	ls := ix.rowLists(row, &r)
	l := newJSONLayout(s, ix.verbatim.get())
	return ix.appendRow(b, &l, &r, &ls)
}

// rowLists returns the lists' places of row, and sets r's expression if
// row has one of its own.
func (ix *Index) rowLists(row uint32, r *record.Record) rowLists {
	rc := &ix.rc
	var l rowLists
	if l.derived = rc.derived.has(int(row)); !l.derived {
		r.Expression = rc.expr.get(int(row))
	}
	l.ctLo, l.ctHi, _ = rc.ct.span(int(row))
	l.infos, l.infosSet = ix.cols.infosOf(row)
	l.piLo, l.piHi, _ = rc.pi.span(int(row))
	return l
}

// jsonVerbatim says which dictionaries of an index hold only strings that
// a JSON string holds as they are (record.Verbatim): AppendRowJSON copies
// their strings untested, which saves it a test of every byte of a page
// (BenchmarkPageJSON). It costs no memory per row or term: one pass over
// the dictionaries (findVerbatim), and a dictionary with one string to
// escape has all of its strings tested. The zero value tests every
// string.
type jsonVerbatim struct {
	// fields are the string fields whose dictionaries need no escaping.
	fields record.FieldSet
	// expr: the expressions rows have of their own; configs: template
	// and file names.
	expr, configs bool
}

// verbatimCell holds an index's jsonVerbatim once found; it is shared by
// the indexes that share its dictionaries (WithStatus). Build finds it
// before it returns; a load has it found in the background, since the
// pass costs tens of milliseconds at 1M rows (BenchmarkFindVerbatim: a
// term dictionary with non-ASCII bytes has each term tested), and until
// then every string is tested, as it would be without it.
type verbatimCell struct {
	v    atomic.Pointer[jsonVerbatim]
	done chan struct{}
}

// find sets c to what findVerbatim finds in ix, and closes done.
func (c *verbatimCell) find(ix *Index) {
	v := ix.findVerbatim()
	c.v.Store(&v)
	close(c.done)
}

// get returns the dictionaries known to need no escaping: none until
// they are found, or for an index with no cell.
func (c *verbatimCell) get() jsonVerbatim {
	if c == nil {
		return jsonVerbatim{}
	}
	if v := c.v.Load(); v != nil {
		return *v
	}
	return jsonVerbatim{}
}

// findVerbatim returns which dictionaries of ix need no escaping.
func (ix *Index) findVerbatim() jsonVerbatim {
	var v jsonVerbatim
	for f, ok := range map[record.Field]bool{
		record.FieldInnerIP: ix.InnerIP.verbatim(), record.FieldInnerIPv6: ix.rc.ipv6.verbatim(),
		record.FieldAgentID: ix.rc.agent.verbatim(), record.FieldCloudName: ix.CloudName.verbatim(),
		record.FieldSetEnv: ix.Env.verbatim(), record.FieldSetName: ix.SetName.verbatim(),
		record.FieldModuleName: ix.ModuleName.verbatim(), record.FieldServiceName: ix.ServiceName.verbatim(),
		record.FieldProcessName: ix.ProcessName.verbatim(),
	} {
		if ok {
			v.fields = v.fields.With(f)
		}
	}
	v.expr = ix.rc.expr.verbatim()
	v.configs = ix.rc.ct.tmpl.verbatim() && ix.rc.ct.file.verbatim()
	return v
}

// verbatim reports whether every term of t needs no escaping. Its
// alphabet answers for a dictionary of plain ASCII; one with other bytes
// has its terms tested.
func (t *StrTerms) verbatim() bool {
	high := false
	for c, in := range t.alphabet {
		if !in {
			continue
		}
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
		high = high || c >= 0x80
	}
	if !high {
		return true
	}
	for _, term := range t.terms {
		if !record.Verbatim(term) {
			return false
		}
	}
	return true
}

// verbatim reports whether every string of d needs no escaping: its
// packed strings as one, and each string starting a character (valid
// UTF-8 cut at character starts is valid UTF-8 in every piece).
func (d *dict) verbatim() bool {
	if !record.Verbatim(d.packed) {
		return false
	}
	// Ends of zero width are all zero: no string but empty ones.
	n := len(d.ends.u8) + len(d.ends.u16) + len(d.ends.u32) + len(d.ends.u64)
	for i := range n {
		if e := d.ends.get(i); e < uint64(len(d.packed)) && d.packed[e]&0xc0 == 0x80 {
			return false
		}
	}
	return true
}
