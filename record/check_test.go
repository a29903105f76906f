package record

import (
	"errors"
	"strconv"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		pid  int64
		env  string
		good bool
	}{
		{1, "", true}, {1, "0", true}, {1, "1", true}, {1, "2", true}, {1 << 62, "3", true},
		{0, "3", false}, {-1, "3", false}, {1, "4", false}, {1, " 3", false}, {1, "03", false}, {1, "formal", false},
	}
	for _, tc := range tests {
		r := Record{ProcessID: tc.pid, SetEnv: tc.env}
		err := r.Check()
		if (err == nil) != tc.good || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("bk_process_id %d, bk_set_env %q: %v", tc.pid, tc.env, err)
		}
		var u Record
		jerr := u.UnmarshalJSON([]byte(`{"bk_process_id":` + itoa(tc.pid) + `,"bk_set_env":"` + tc.env + `"}`))
		if (jerr == nil) != tc.good {
			t.Errorf("import of bk_process_id %d, bk_set_env %q: %v", tc.pid, tc.env, jerr)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
