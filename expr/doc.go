// Package expr implements the GSEKit field expression language of SPEC
// section 4 and 10: wildcards (`*`, `?`), bracket groups (words, lists of
// alternatives, numeric ranges, letter ranges and negated classes) and the
// `[from:to]` slice of the bk_process_id expression.
//
// An expression is parsed once into a small tree and compiled into a
// matcher that never expands ranges or alternatives: a numeric range is a
// comparison of digit strings and a list of alternatives is one step of a
// position-set simulation, so `[1-1000000000]` or ten bracket groups cost
// the same order of time as a plain word. Match does not allocate for
// strings shorter than a few hundred bytes, once the automaton states it
// needs (below) are built.
//
// Words, lists of words, a single range and globs of words and stars have
// their own matchers (a string compare, a set lookup, digit compares,
// segment searches). Any other pattern keeps its leading and trailing
// words as prefix and suffix tests and, for an ASCII string, runs the rest
// through a deterministic automaton over bytes, built lazily from the
// nodes and cached in the Pattern. Over ASCII a character is a byte: `?`
// is any byte below 0x80, a class its ASCII members, and a numeric range a
// small automaton over the digits (digits read so far, and how they
// compare with each bound's first digits). A state is a set of states of
// the nondeterministic automaton, made the first time a string needs it;
// its transitions are read by one atomic load each, so a Pattern stays
// safe for concurrent use while it is built. A byte costs one transition
// (`go test ./expr -run '^$' -bench 'Match/(suite-)?ten-groups'` times the
// ten-group patterns on service-instance names; the /sim variants time the
// simulation of the whole pattern, compiled each call). A string with a byte of 0x80 or more before the
// automaton knows the answer is simulated. The automaton of a pattern is
// bounded (2048 nondeterministic states, 512 states of 516 bytes, 2^17
// steps of building: at most 0.25 MB of table, TestDFABounds); past
// a bound, a string that needs a missing transition is simulated, so the
// simulation's budget below remains the worst case.
//
// The simulation costs at most a constant times (pattern length + 1) ×
// (value length + 1) steps (FuzzMatchCost checks the budget), and less
// for repetition: a run of equal nodes that leaves the position set
// unchanged is skipped, and so are nodes that match the empty string once
// the set holds every position, so `[,!x]` repeated costs what the value's
// length allows. Because a request may test a whole dictionary of values,
// Parse also refuses an expression of more than MaxElements elements
// (*LimitError, API code 4111001).
//
// Besides Match, a Pattern describes itself for index fast paths:
// MatchesAll, Literals (a small finite set of exact strings), Prefix and
// Suffix (literal affixes every match carries) and IntRanges (the matched
// set as int64 ranges, for the bk_process_id expression).
//
// Where the SPEC is silent this package decides:
//
//   - Trimming (of the expression and of list alternatives) removes ASCII
//     white space only: space, \t, \n, \v, \f, \r.
//   - `[!]` is a negated class of the empty set: any one character.
//   - Inside a negated class, `x-y` is a code-point range; a reversed range
//     (`[!c-a]`) adds nothing, as in fnmatch; a `-` first or last is a
//     member; `,` and spaces are members (`[!a, b]`).
//   - A letter range takes Unicode letters, not only ASCII: `x` and `y` are
//     single letters that are both lower case, both upper case or both
//     caseless (`[α-γ]`, `[一-龥]`), with x < y as code points. Mixed case
//     (`[A-c]`) is a word.
//   - A numeric range takes ASCII digits only, both in the bounds and in the
//     value; `0` is the number 0, any other number must not start with `0`.
//   - A value that is not valid UTF-8 is matched byte-wise for literal
//     text; each invalid byte counts as one character, which is U+FFFD for
//     class membership.
//   - A slice is `[`, an optional bound, at most one space, `:`, at most one
//     space, an optional bound, `]`, where a bound is an optional `+`/`-`
//     and at least one ASCII digit: `[-:1]`, `[ 1:2]`, `[1:2 ]` and
//     `[1  :2]` are ordinary words. Text after a slice is reported before a
//     bound outside int64.
//
// The package knows nothing of records, indexes or HTTP.
package expr
