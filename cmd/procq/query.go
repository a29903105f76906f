package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"procq/engine"
)

func runQuery(args []string) error {
	fs := newFlags("query")
	path := fs.String("snapshot", "", "snapshot file to query")
	reqPath := fs.String("request", "", "file holding one JSON request (default: stdin)")
	batch := fs.String("requests", "", "JSON Lines file of requests, answered one per line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("snapshot", *path); err != nil {
		return err
	}
	if *reqPath != "" && *batch != "" {
		return fmt.Errorf("--request and --requests are exclusive")
	}
	e, err := engine.Load(*path)
	if err != nil {
		return err
	}
	if *batch != "" {
		return answerBatch(e, *batch)
	}
	var body []byte
	if *reqPath != "" {
		body, err = os.ReadFile(*reqPath)
	} else {
		body, err = io.ReadAll(os.Stdin)
	}
	if err != nil {
		return err
	}
	resp, qerr := e.Do(context.Background(), body)
	if _, err := os.Stdout.Write(append(resp, '\n')); err != nil {
		return err
	}
	if qerr != nil {
		return errQueryFailed
	}
	return nil
}

// answerBatch prints one envelope per non-blank request line, in order.
func answerBatch(e *engine.Engine, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	bw := bufio.NewWriterSize(os.Stdout, 1<<20)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			resp, _ := e.Do(context.Background(), b)
			if _, werr := bw.Write(append(resp, '\n')); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
}
