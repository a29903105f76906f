package expr

import (
	"strconv"
)

// Slice is a Python list slice `[from:to]` of the bk_process_id
// expression (step 1). A missing bound has its Has flag false.
type Slice struct {
	From, To       int64
	HasFrom, HasTo bool
}

// SliceError is the error of an expression that begins with a slice but
// cannot be used as one (API code 4111003): text follows the slice, or a
// bound is outside int64.
type SliceError struct {
	// Expr is the whole expression, trimmed.
	Expr string
	// Reason says what is wrong, in English.
	Reason string
}

// Error returns a message naming the expression and the reason.
func (e *SliceError) Error() string {
	return "切片表达式无法解析: " + e.Expr + " (" + e.Reason + ")"
}

// ParseSlice reads a slice at the start of an expression. The expression is
// trimmed of ASCII white space first. ok is false when it does not begin
// with a slice: `[`, an optional bound, at most one space, `:`, at most one
// space, an optional bound, `]`, where a bound is an optional `+` or `-`
// followed by ASCII digits. Such an expression is an ordinary pattern (this
// includes near-slices like `[1:2:3]`, `[a:b]`, `[-:1]` and `[1:` with no
// `]`). When it does begin with a slice, ok is true and err is a
// *SliceError if text follows the slice or a bound is outside int64.
//
// Every slice is also a valid pattern (a bracket word), so callers keep the
// SPEC's precedence by calling Parse on all five expressions first and
// ParseSlice only after: `[0:3][1:` is a syntax error (4111001) from Parse
// before it is a slice error here.
func ParseSlice(s string) (sl Slice, ok bool, err error) {
	t := trimASCII(s)
	if len(t) == 0 || t[0] != '[' {
		return Slice{}, false, nil
	}
	i := 1
	from, i, good := sliceBound(t, i)
	if !good {
		return Slice{}, false, nil
	}
	if i < len(t) && t[i] == ' ' {
		i++
	}
	if i >= len(t) || t[i] != ':' {
		return Slice{}, false, nil
	}
	i++
	if i < len(t) && t[i] == ' ' {
		i++
	}
	to, i, good := sliceBound(t, i)
	if !good || i >= len(t) || t[i] != ']' {
		return Slice{}, false, nil
	}
	i++
	if i < len(t) {
		return Slice{}, true, &SliceError{Expr: t, Reason: "text after the slice: " + t[i:]}
	}
	if from != "" {
		v, perr := strconv.ParseInt(from, 10, 64)
		if perr != nil {
			return Slice{}, true, &SliceError{Expr: t, Reason: "bound outside int64: " + from}
		}
		sl.From, sl.HasFrom = v, true
	}
	if to != "" {
		v, perr := strconv.ParseInt(to, 10, 64)
		if perr != nil {
			return Slice{}, true, &SliceError{Expr: t, Reason: "bound outside int64: " + to}
		}
		sl.To, sl.HasTo = v, true
	}
	return sl, true, nil
}

// sliceBound reads an optional bound at t[i:]: empty, or an optional sign
// and at least one digit. good is false for a sign without digits.
func sliceBound(t string, i int) (bound string, end int, good bool) {
	start := i
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	d := i
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i == d && d != start {
		return "", i, false
	}
	return t[start:i], i, true
}

// Bounds applies the slice to a list of length n by Python's rules (a
// negative bound counts from the end, bounds are clamped to the list) and
// returns the half-open index range [start, end) with 0 <= start <= end <= n;
// an empty result has start == end.
func (s Slice) Bounds(n int) (start, end int) {
	if n < 0 {
		n = 0
	}
	ln := int64(n)
	lo, hi := int64(0), ln
	if s.HasFrom {
		lo = clampIndex(s.From, ln)
	}
	if s.HasTo {
		hi = clampIndex(s.To, ln)
	}
	if hi < lo {
		hi = lo
	}
	return int(lo), int(hi)
}

func clampIndex(v, n int64) int64 {
	if v < 0 {
		v += n
		if v < 0 {
			return 0
		}
		return v
	}
	if v > n {
		return n
	}
	return v
}
