package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
)

func runQuery(args []string) error {
	fs := newFlags("query")
	path := fs.String("snapshot", "", "snapshot `FILE` to query (required)")
	reqPath := fs.String("request", "-", "`FILE` holding one JSON request, \"-\" for stdin")
	explain := fs.Bool("explain", false, "add data.explain: the steps of each answer, their cardinalities and times")
	batch := fs.String("requests", "", "JSON Lines `FILE` of requests (\"-\" for stdin), answered one envelope per line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("snapshot", *path); err != nil {
		return err
	}
	if isSet(fs, "request") && *batch != "" {
		return usageErrorf("--request and --requests are exclusive")
	}
	e, err := engine.Load(*path)
	if err != nil {
		return err
	}
	if *batch != "" {
		return answerBatch(e, *batch, engine.DoOptions{Explain: *explain})
	}
	f, _, err := openIn(*reqPath)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	resp, qerr := e.DoWith(context.Background(), body, engine.DoOptions{Explain: *explain})
	if _, err := os.Stdout.Write(append(resp, '\n')); err != nil {
		return err
	}
	if qerr != nil {
		return errQueryFailed
	}
	return nil
}

// answerBatch prints one envelope per line of the file at path ("-" for
// stdin), in order, so that output line N answers input line N: a blank
// line answers an error envelope (code 4100001) naming its line. It
// returns errQueryFailed, after printing every answer, when any answer is
// an error.
func answerBatch(e *engine.Engine, path string, opts engine.DoOptions) error {
	f, name, err := openIn(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	bw := bufio.NewWriterSize(os.Stdout, 1<<20)
	failed := 0
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			resp, qerr := answerLine(e, b, line, opts)
			if qerr != nil {
				failed++
			}
			if _, werr := bw.Write(append(resp, '\n')); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			if ferr := bw.Flush(); ferr != nil {
				return ferr
			}
			if failed > 0 {
				fmt.Fprintf(os.Stderr, "procq query: %d of %d requests answered with an error\n", failed, line-1+min(len(b), 1))
				return errQueryFailed
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

// answerLine answers one line of a batch; a blank line is an error.
func answerLine(e *engine.Engine, b []byte, line int, opts engine.DoOptions) ([]byte, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		err := &api.Error{Code: api.CodeValidation, Message: fmt.Sprintf("line %d: blank line, no request", line)}
		return api.AppendError(nil, err), err
	}
	return e.DoWith(context.Background(), b, opts)
}
