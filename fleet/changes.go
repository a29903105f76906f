package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/procq/procq/record"
	"github.com/procq/procq/store"
)

// Subjects of the stream.
const (
	// SubjectPrefix starts every subject: procq.changes.<bk_biz_id>.
	SubjectPrefix = "procq.changes."
	// SubjectAny carries the deletes and status updates whose business
	// the writer could not tell; every replica follows it.
	SubjectAny = SubjectPrefix + "any"
)

// Subject returns the subject of business biz.
func Subject(biz int64) string { return SubjectPrefix + strconv.FormatInt(biz, 10) }

// BizLookup tells the business of a process, false when unknown.
type BizLookup func(pid int64) (biz int64, ok bool)

// message is the ops of one business, to be published as one message.
type message struct {
	subject string
	ops     []store.Op
}

// split divides ops by business, each business's ops in their order,
// businesses in the order they first appear.
func split(ops []store.Op, lookup BizLookup) []message {
	var out []message
	at := make(map[string]int)
	for _, op := range ops {
		subj := SubjectAny
		var pid int64
		switch {
		case op.Upsert != nil:
			subj = Subject(op.Upsert.BizID)
		case op.Delete != 0:
			pid = op.Delete
		case op.Status != nil:
			pid = op.Status.ProcessID
		}
		if pid != 0 && lookup != nil {
			if biz, ok := lookup(pid); ok {
				subj = Subject(biz)
			}
		}
		i, ok := at[subj]
		if !ok {
			i = len(out)
			at[subj] = i
			out = append(out, message{subject: subj})
		}
		out[i].ops = append(out[i].ops, op)
	}
	return out
}

// statusJSON is a status update in the change format.
type statusJSON struct {
	ProcessID     int64           `json:"bk_process_id"`
	ProcessStatus int64           `json:"process_status"`
	IsAuto        bool            `json:"is_auto"`
	ProcInstInfos *[]procInstJSON `json:"proc_inst_infos,omitempty"`
}

type procInstJSON struct {
	ProcessID     int64 `json:"bk_process_id"`
	LocalInstID   int64 `json:"local_inst_id"`
	InstID        int64 `json:"inst_id"`
	ProcessStatus int64 `json:"process_status"`
	IsAuto        bool  `json:"is_auto"`
}

// encodeOps writes ops in the change format that store.ParseOps reads:
// one line for each run of ops of one kind.
func encodeOps(ops []store.Op) []byte {
	var b bytes.Buffer
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && kindOf(ops[j]) == kindOf(ops[i]) {
			j++
		}
		writeRun(&b, ops[i:j])
		i = j
	}
	return b.Bytes()
}

func kindOf(op store.Op) string {
	switch {
	case op.Upsert != nil:
		return store.KindUpsert
	case op.Delete != 0:
		return store.KindDelete
	}
	return store.KindStatus
}

// writeRun writes one line holding ops, all of one kind.
func writeRun(b *bytes.Buffer, ops []store.Op) {
	switch kindOf(ops[0]) {
	case store.KindUpsert:
		b.WriteString(`{"op":"upsert","records":[`)
		for i, op := range ops {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(op.Upsert.AppendJSON(nil, 0))
		}
	case store.KindDelete:
		b.WriteString(`{"op":"delete","bk_process_ids":[`)
		for i, op := range ops {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(op.Delete, 10))
		}
	default:
		b.WriteString(`{"op":"status","updates":[`)
		for i, op := range ops {
			if i > 0 {
				b.WriteByte(',')
			}
			j, _ := json.Marshal(statusOf(op.Status)) // plain integers and booleans: it cannot fail
			b.Write(j)
		}
	}
	b.WriteString("]}\n")
}

func statusOf(u *record.StatusUpdate) statusJSON {
	s := statusJSON{ProcessID: u.ProcessID, ProcessStatus: u.ProcessStatus, IsAuto: u.IsAuto}
	if u.SetProcInstInfos {
		infos := make([]procInstJSON, len(u.ProcInstInfos))
		for i, p := range u.ProcInstInfos {
			infos[i] = procInstJSON(p)
		}
		s.ProcInstInfos = &infos
	}
	return s
}

// decodeOps reads a message's body, the change format, line by line
// with store.ParseOp: the one parser of changes. (store.ParseOps, for
// files, sets up a 1 MiB reader per call: 43% of a catching-up replica's
// CPU when each message paid it, BenchmarkCatchUp.)
func decodeOps(data []byte, seq uint64) ([]store.Op, error) {
	var ops []store.Op
	for line := 1; len(data) > 0; line++ {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		more, err := store.ParseOp(l, "")
		if err != nil {
			return nil, fmt.Errorf("stream message %d:%d: %w", seq, line, err)
		}
		ops = append(ops, more...)
	}
	return ops, nil
}
