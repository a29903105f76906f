package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// kindOf names the JSON type of raw as messages show it: null, bool,
// string, list, object, integer (a number without fraction or exponent)
// or number. raw must be valid JSON.
func kindOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "bool"
	case '"':
		return "string"
	case '[':
		return "list"
	case '{':
		return "object"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "number"
	}
	return "integer"
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || raw[0] == 'n' }

// maxShown bounds how many bytes of an offending value a message quotes.
const maxShown = 64

// appendShown appends raw as messages quote it: compact JSON with a space
// after every ',' and ':' between tokens, cut after maxShown bytes.
func appendShown(b []byte, raw json.RawMessage) []byte {
	start := len(b)
	inString, escaped := false, false
	for _, c := range raw {
		if len(b)-start >= maxShown && !inString {
			return append(b, "..."...)
		}
		if inString {
			b = append(b, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			if len(b)-start >= maxShown+16 {
				// A long string: cut it at a rune boundary.
				for len(b) > start && !utf8.RuneStart(b[len(b)-1]) {
					b = b[:len(b)-1]
				}
				if len(b) > start {
					b = b[:len(b)-1]
				}
				return append(b, "..."...)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
		case ',', ':':
			b = append(b, c, ' ')
		case '"':
			inString = true
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// gotKind describes an offending value by its type and its text, e.g.
// `string "abc"` or `null null`.
func gotKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	b := append([]byte(kindOf(raw)), ' ')
	return string(appendShown(b, raw))
}

// shown is the text of an offending value, e.g. `"-3"` or `0`.
func shown(raw json.RawMessage) string { return string(appendShown(nil, raw)) }

// typeError reports a value of the wrong JSON type at path.
func typeError(path, want string, raw json.RawMessage) *Error {
	return &Error{Code: CodeValidation, Message: path + ": must be " + want + ", got " + gotKind(raw)}
}

// rangeError reports a value of the right type but outside what path allows.
func rangeError(path, want string, raw json.RawMessage) *Error {
	return &Error{Code: CodeValidation, Message: path + ": must be " + want + ", got " + shown(raw)}
}

// invalid reports any other validation failure at path.
func invalid(path, msg string) *Error {
	return &Error{Code: CodeValidation, Message: path + ": " + msg}
}

// elem is the path of the i-th element of the list at path.
func elem(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// decodeString returns the string raw holds, or ok false when raw is not
// a JSON string.
func decodeString(raw json.RawMessage) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// isDecimal reports whether s is an optional '-' followed by one or more
// ASCII digits.
func isDecimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// intStatus is how decoding an integer went.
type intStatus uint8

const (
	intOK       intStatus = iota
	intNotInt             // not an integer at all
	intOutRange           // an integer outside int64
)

// parseInt decodes an integer: a JSON integer or a JSON string of an
// optional '-' and ASCII digits, within int64.
func parseInt(raw json.RawMessage) (int64, intStatus) {
	var text string
	switch kindOf(raw) {
	case "integer":
		text = string(raw)
	case "string":
		s, _ := decodeString(raw)
		if !isDecimal(s) {
			return 0, intNotInt
		}
		text = s
	default:
		return 0, intNotInt
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, intOutRange
	}
	return n, intOK
}

// intError is the error for an integer at path that parseInt refused.
func intError(path string, raw json.RawMessage, st intStatus) *Error {
	if st == intOutRange {
		return rangeError(path, "within int64", raw)
	}
	return typeError(path, "an integer", raw)
}

// asInt decodes the integer at path.
func asInt(path string, raw json.RawMessage) (int64, *Error) {
	n, st := parseInt(raw)
	if st != intOK {
		return 0, intError(path, raw, st)
	}
	return n, nil
}

// asString decodes the JSON string at path.
func asString(path string, raw json.RawMessage) (string, *Error) {
	s, ok := decodeString(raw)
	if !ok {
		return "", typeError(path, "a string", raw)
	}
	return s, nil
}

// asBool decodes the JSON true or false at path.
func asBool(path string, raw json.RawMessage) (bool, *Error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, typeError(path, "a bool", raw)
}

// asList decodes the JSON array at path into its raw elements.
func asList(path string, raw json.RawMessage) ([]json.RawMessage, *Error) {
	if kindOf(raw) != "list" {
		return nil, typeError(path, "a list", raw)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, typeError(path, "a list", raw)
	}
	return items, nil
}

// asObject decodes the JSON object at path into its members; when a key
// repeats, the last one wins.
func asObject(path string, raw json.RawMessage) (map[string]json.RawMessage, *Error) {
	if kindOf(raw) != "object" {
		// Objects are large; the message names only the type it got.
		return nil, invalid(path, "must be an object, got "+kindOf(raw))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, invalid(path, "must be an object, got "+kindOf(raw))
	}
	return m, nil
}

// intList decodes the list of integers at path, without repeats (first
// occurrence kept); an empty list is nil.
func intList(path string, raw json.RawMessage) ([]int64, *Error) {
	items, e := asList(path, raw)
	if e != nil || len(items) == 0 {
		return nil, e
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, st := parseInt(it)
		if st != intOK {
			return nil, intError(elem(path, i), it, st)
		}
		out[i] = n
	}
	return dedup(out), nil
}

// stringList decodes the list of strings at path; an empty list is nil.
func stringList(path string, raw json.RawMessage) ([]string, *Error) {
	items, e := asList(path, raw)
	if e != nil || len(items) == 0 {
		return nil, e
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := decodeString(it)
		if !ok {
			return nil, typeError(elem(path, i), "a string", it)
		}
		out[i] = s
	}
	return out, nil
}

// boolList decodes the list of bools at path, without repeats (first
// occurrence kept); an empty list is nil.
func boolList(path string, raw json.RawMessage) ([]bool, *Error) {
	items, e := asList(path, raw)
	if e != nil || len(items) == 0 {
		return nil, e
	}
	out := make([]bool, len(items))
	for i, it := range items {
		switch string(it) {
		case "true":
			out[i] = true
		case "false":
		default:
			return nil, typeError(elem(path, i), "a bool", it)
		}
	}
	return dedup(out), nil
}
