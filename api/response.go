package api

import (
	"strconv"

	"github.com/procq/procq/record"
)

// Items is a page of list items that writes its items itself, so that a
// page need not be records: the engine writes its base rows straight from
// the index's columns, many rows at a time.
type Items interface {
	// AppendItems appends the items as JSON objects separated by commas,
	// each holding the keys of fields (all when fields is 0), as
	// record.AppendJSON writes them.
	AppendItems(b []byte, fields record.FieldSet) []byte
}

// AppendSuccess appends the success envelope
// {"result":true,"code":0,"message":"","data":{"count":N,"list":[...]}}
// to b. Each record of recs becomes one list item holding the keys of
// fields (all when fields is 0); a nil record is written as null.
func AppendSuccess(b []byte, count int, recs []*record.Record, fields record.FieldSet) []byte {
	return AppendSuccessItems(b, count, records(recs), fields)
}

// AppendSuccessItems is AppendSuccess with the list written by items.
func AppendSuccessItems(b []byte, count int, items Items, fields record.FieldSet) []byte {
	b = append(b, `{"result":true,"code":0,"message":"","data":{"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"list":[`...)
	b = items.AppendItems(b, fields)
	return append(b, "]}}"...)
}

// records are Items; a nil record is written as null.
type records []*record.Record

func (rs records) AppendItems(b []byte, fields record.FieldSet) []byte {
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		if r == nil {
			b = append(b, "null"...)
			continue
		}
		b = r.AppendJSON(b, fields)
	}
	return b
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

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

// appendString appends s as a JSON string, as record fields are written.
func appendString(b []byte, s string) []byte { return record.AppendString(b, s) }
