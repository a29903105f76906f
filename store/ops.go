package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/procq/procq/record"
)

// The change format: JSON Lines, one operation object per line, blank
// lines skipped. "op" names the operation; the other members depend on it,
// and a member that does not belong is an error:
//
//	{"op":"upsert","record":{...}}                   one record, in the SPEC's record shape
//	{"op":"upsert","records":[{...},{...}]}          several
//	{"op":"delete","bk_process_id":42}
//	{"op":"delete","bk_process_ids":[42,43]}
//	{"op":"status","updates":[{"bk_process_id":42,"process_status":1,"is_auto":true,
//	                           "proc_inst_infos":[...]}]}
//
// A status update needs bk_process_id, process_status and is_auto;
// proc_inst_infos, when present and not null, replaces the process's list
// (also with []), and otherwise the list is kept.

// Op kinds, the values of an op line's "op" member.
const (
	KindUpsert = "upsert"
	KindDelete = "delete"
	KindStatus = "status"
)

// opLine is the wire shape of one op line.
type opLine struct {
	Op      *string           `json:"op"`
	Record  json.RawMessage   `json:"record"`
	Records []json.RawMessage `json:"records"`
	ID      *int64            `json:"bk_process_id"`
	IDs     []int64           `json:"bk_process_ids"`
	Updates []json.RawMessage `json:"updates"`
}

// statusLine is the wire shape of one status update.
type statusLine struct {
	ProcessID     *int64          `json:"bk_process_id"`
	ProcessStatus *int64          `json:"process_status"`
	IsAuto        *bool           `json:"is_auto"`
	ProcInstInfos json.RawMessage `json:"proc_inst_infos"`
}

type procInstLine struct {
	ProcessID     int64 `json:"bk_process_id"`
	LocalInstID   int64 `json:"local_inst_id"`
	InstID        int64 `json:"inst_id"`
	ProcessStatus int64 `json:"process_status"`
	IsAuto        bool  `json:"is_auto"`
}

// skipValue decodes any JSON value into nothing: the member names of an op
// line are checked without copying the members (a delete of millions of
// ids is one member of tens of megabytes).
type skipValue struct{}

// UnmarshalJSON accepts any value; encoding/json has already checked it.
func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// ParseOp decodes one operation object of the change format into the ops
// it stands for. When kind is not "", the object must be an op of that
// kind and may leave "op" out (the HTTP endpoints name the kind in the
// path). Errors wrap ErrInvalidOp.
func ParseOp(b []byte, kind string) ([]Op, error) {
	ops, err := parseOp(b, kind)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOp, err)
	}
	return ops, nil
}

func parseOp(b []byte, kind string) ([]Op, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var members map[string]skipValue
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, jsonError(err)
	}
	var l opLine
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, jsonError(err)
	}
	switch {
	case l.Op != nil && kind != "" && *l.Op != kind:
		return nil, fmt.Errorf("op %q where %q is expected", *l.Op, kind)
	case l.Op != nil:
		kind = *l.Op
	case kind == "":
		return nil, errors.New(`"op" is missing: want an object like {"op":"upsert","record":{...}}`)
	}
	allowed := map[string][]string{
		KindUpsert: {"record", "records"},
		KindDelete: {"bk_process_id", "bk_process_ids"},
		KindStatus: {"updates"},
	}
	if _, ok := allowed[kind]; !ok {
		return nil, fmt.Errorf(`unknown op %q: want "upsert", "delete" or "status"`, kind)
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if name != "op" && !slices.Contains(allowed[kind], name) {
			return nil, fmt.Errorf("%s: member %q does not belong to this op (want %s)", kind, name, strings.Join(allowed[kind], " or "))
		}
	}
	switch kind {
	case KindUpsert:
		return upsertLineOps(l)
	case KindDelete:
		return deleteLineOps(l)
	}
	return statusLineOps(l)
}

// upsertLineOps returns the ops of an upsert line.
func upsertLineOps(l opLine) ([]Op, error) {
	raws := l.Records
	if l.Record != nil {
		if l.Records != nil {
			return nil, errors.New(`upsert: give "record" or "records", not both`)
		}
		raws = []json.RawMessage{l.Record}
	}
	if raws == nil {
		return nil, errors.New(`upsert: "record" or "records" is missing`)
	}
	var ops []Op
	for i, raw := range raws {
		r := new(record.Record)
		if err := json.Unmarshal(raw, r); err != nil {
			return nil, fmt.Errorf("upsert: %s: %w", item("records", i, l.Record != nil), jsonError(err))
		}
		ops = append(ops, Op{Upsert: r})
	}
	return ops, nil
}

// deleteLineOps returns the ops of a delete line.
func deleteLineOps(l opLine) ([]Op, error) {
	ids := l.IDs
	if l.ID != nil {
		if l.IDs != nil {
			return nil, errors.New(`delete: give "bk_process_id" or "bk_process_ids", not both`)
		}
		ids = []int64{*l.ID}
	}
	if ids == nil {
		return nil, errors.New(`delete: "bk_process_id" or "bk_process_ids" is missing`)
	}
	ops := make([]Op, 0, len(ids))
	for i, id := range ids {
		if id <= 0 {
			return nil, fmt.Errorf("delete: %s: bk_process_id must be > 0, got %d", item("bk_process_ids", i, l.ID != nil), id)
		}
		ops = append(ops, Op{Delete: id})
	}
	return ops, nil
}

// statusLineOps returns the ops of a status line.
func statusLineOps(l opLine) ([]Op, error) {
	if l.Updates == nil {
		return nil, errors.New(`status: "updates" is missing`)
	}
	var ops []Op
	for i, raw := range l.Updates {
		u, err := parseStatus(raw)
		if err != nil {
			return nil, fmt.Errorf("status: updates[%d]: %w", i, err)
		}
		ops = append(ops, Op{Status: u})
	}
	return ops, nil
}

// item names element i of list, or the single member when single.
func item(list string, i int, single bool) string {
	if single {
		return list[:len(list)-1]
	}
	return fmt.Sprintf("%s[%d]", list, i)
}

func parseStatus(raw json.RawMessage) (*record.StatusUpdate, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var l statusLine
	if err := dec.Decode(&l); err != nil {
		return nil, jsonError(err)
	}
	switch {
	case l.ProcessID == nil:
		return nil, errors.New("bk_process_id is missing")
	case *l.ProcessID <= 0:
		return nil, fmt.Errorf("bk_process_id must be > 0, got %d", *l.ProcessID)
	case l.ProcessStatus == nil:
		return nil, errors.New("process_status is missing")
	case l.IsAuto == nil:
		return nil, errors.New("is_auto is missing")
	}
	u := &record.StatusUpdate{ProcessID: *l.ProcessID, ProcessStatus: *l.ProcessStatus, IsAuto: *l.IsAuto}
	if len(l.ProcInstInfos) > 0 && string(l.ProcInstInfos) != "null" {
		var pis []procInstLine
		if err := json.Unmarshal(l.ProcInstInfos, &pis); err != nil {
			return nil, fmt.Errorf("proc_inst_infos: %w", jsonError(err))
		}
		u.SetProcInstInfos = true
		for _, p := range pis {
			u.ProcInstInfos = append(u.ProcInstInfos, record.ProcInstInfo(p))
		}
	}
	return u, nil
}

// jsonError shortens encoding/json's type errors to name the field.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: must be %s, got %s", te.Field, te.Type, te.Value)
	}
	return err
}

// ParseOps reads a whole file of the change format from r, naming it name
// in errors, which read "name:line: why" and wrap ErrInvalidOp. It returns
// every op of every line in order, or nothing when any line is bad.
func ParseOps(r io.Reader, name string) ([]Op, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	// The ops of each line are kept as they come and joined once at the
	// end: appending to one growing slice copied it at every doubling,
	// which was most of what a large apply allocated.
	var lines [][]Op
	n := 0
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			more, perr := parseOp(b, "")
			if perr != nil {
				return nil, fmt.Errorf("%s:%d: %w: %w", name, line, ErrInvalidOp, perr)
			}
			lines = append(lines, more)
			n += len(more)
		}
		if err == io.EOF {
			if len(lines) == 1 {
				return lines[0], nil
			}
			ops := make([]Op, 0, n)
			for i, l := range lines {
				ops = append(ops, l...)
				lines[i] = nil
			}
			return ops, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}
