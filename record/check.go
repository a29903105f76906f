package record

import "fmt"

// Check reports whether r is a record procq accepts, wherever it comes
// from (an imported line, a snapshot, a write): bk_process_id is positive,
// and bk_set_env is "0".."3" or empty (not given). Errors wrap ErrInvalid.
func (r *Record) Check() error {
	if r.ProcessID <= 0 {
		return fmt.Errorf("%w: bk_process_id must be > 0, got %d", ErrInvalid, r.ProcessID)
	}
	switch r.SetEnv {
	case "", "0", "1", "2", "3":
		return nil
	}
	return fmt.Errorf("%w: bk_process_id %d: bk_set_env must be \"0\"..\"3\", got %q", ErrInvalid, r.ProcessID, r.SetEnv)
}
