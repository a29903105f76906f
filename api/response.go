package api

import (
	"strconv"
	"unicode/utf8"

	"procq/record"
)

// AppendSuccess appends the success envelope
// {"result":true,"code":0,"message":"","data":{"count":N,"list":[...]}}
// to b. Each record of recs becomes one list item holding the keys of
// fields (all when fields is 0); a nil record is written as null.
func AppendSuccess(b []byte, count int, recs []*record.Record, fields record.FieldSet) []byte {
	b = append(b, `{"result":true,"code":0,"message":"","data":{"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"list":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		if r == nil {
			b = append(b, "null"...)
			continue
		}
		b = r.AppendJSON(b, fields)
	}
	return append(b, "]}}"...)
}

// AppendError appends the error envelope
// {"result":false,"code":C,"message":"...","data":null} to b. A nil err is
// written with code 0 and the message "unknown error".
func AppendError(b []byte, err *Error) []byte {
	code, msg := 0, "unknown error"
	if err != nil {
		code, msg = err.Code, err.Message
	}
	b = append(b, `{"result":false,"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	return append(b, `,"data":null}`...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: UTF-8 kept as is, quotes,
// backslashes and control characters escaped, invalid bytes as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
