// Command httpfloor serves, over HTTP, answers computed beforehand: for
// each request body of a JSON Lines file, the bytes the engine answers to
// it. Load it with `procq loadtest` and the same file to measure what the
// HTTP path, the kernel and the load generator cost on this machine
// without the engine: the floor under `procq serve`'s figures.
//
//	go run ./bench/httpfloor -addr 127.0.0.1:18192 -requests mix.jsonl SNAPSHOT
//	procq loadtest --url http://127.0.0.1:18192 --requests mix.jsonl --concurrency 8
//
// The snapshot is loaded only to compute the answers, then dropped. A
// request the engine refuses is left out (answered 404), and counted.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/workload"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18192", "`HOST:PORT` to listen on")
	reqPath := flag.String("requests", "", "JSON Lines `FILE` of the request bodies to answer")
	flag.Parse()
	if flag.NArg() != 1 || *reqPath == "" {
		fmt.Fprintln(os.Stderr, "usage: httpfloor [-addr HOST:PORT] -requests FILE SNAPSHOT")
		os.Exit(2)
	}
	answers, refused, err := precompute(flag.Arg(0), *reqPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpfloor:", err)
		os.Exit(1)
	}
	runtime.GC()
	fmt.Fprintf(os.Stderr, "httpfloor: %d answers, %d requests refused by the engine, listening on %s\n", len(answers), refused, *addr)
	if err := http.ListenAndServe(*addr, answers); err != nil {
		fmt.Fprintln(os.Stderr, "httpfloor:", err)
		os.Exit(1)
	}
}

// answerSet maps a request body to the answer it gets.
type answerSet map[string][]byte

// precompute answers every request of the file at reqPath with the
// engine of the snapshot at path, and counts the requests it refuses.
func precompute(path, reqPath string) (answerSet, int, error) {
	reqs, err := readRequests(reqPath)
	if err != nil {
		return nil, 0, err
	}
	e, err := engine.Load(path)
	if err != nil {
		return nil, 0, err
	}
	refused := 0
	answers := answerSet{}
	for _, req := range reqs {
		out, err := e.Do(context.Background(), req.Body)
		if err != nil {
			refused++
			continue
		}
		answers[string(req.Body)] = out
	}
	return answers, refused, nil
}

// readRequests reads the request log at path as procq loadtest does
// (workload.ReadLog), so that its bodies are the keys loadtest sends.
func readRequests(path string) ([]workload.Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return workload.ReadLog(f, path)
}

// maxBody bounds the request bodies read.
const maxBody = 1 << 20

// ServeHTTP answers a known request body with its answer, anything else
// with 404.
func (a answerSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, ok := a[string(bytes.TrimSpace(body))]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out) //nolint:errcheck // the client may be gone
}
