package engine

import "procq/record"

// Record returns the record whose bk_process_id is pid, and whether there
// is one. The record belongs to the engine: the caller must not change it.
func (e *Engine) Record(pid int64) (*record.Record, bool) {
	row, ok := e.ix.RowOfProcess(pid)
	if !ok {
		return nil, false
	}
	return e.ix.Record(row), true
}
