package workload

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// ReadLog reads a request log: JSON Lines, one request body per line, as
// the API receives it. Blank lines are skipped but counted, so a request
// is named by its line number; white space around a body is dropped.
// Malformed lines are kept: the API answers them with a validation
// error. name is used in errors.
func ReadLog(r io.Reader, name string) ([]Request, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var reqs []Request
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if body := bytes.TrimSpace(b); len(body) > 0 {
			if len(reqs) == MaxCount {
				return nil, fmt.Errorf("%s:%d: more than %d requests", name, line, MaxCount)
			}
			reqs = append(reqs, Request{Line: line, Body: body})
		}
		if err == io.EOF {
			return reqs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}
