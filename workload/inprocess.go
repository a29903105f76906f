package workload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/procq/procq/api"
)

// Doer answers a raw request body with the response envelope, as
// (*engine.Engine).Do does: the error is nil on success, an *api.Error for
// a request the API rejects, anything else for an unexpected failure.
type Doer interface {
	Do(ctx context.Context, body []byte) ([]byte, error)
}

// InProcess is a Doer in this process. Its requests go through the same
// vegeta attacker as HTTP ones, over an http.RoundTripper that calls the
// Doer: no socket, no encoding of the request.
type InProcess struct {
	d Doer
}

// NewInProcess returns the in-process target d.
func NewInProcess(d Doer) *InProcess { return &InProcess{d: d} }

// inprocessURL is the URL prefix of in-process requests; the request's
// index follows it.
const inprocessURL = "http://in-process/"

// codeHeader carries the envelope code of an in-process answer.
const codeHeader = "Procq-Code"

// Run sends reqs to the Doer as plan says; see run. Samples carry the
// request's Index and envelope Code. A Doer error that is not an
// *api.Error is answered as HTTP 500, a failure.
func (p *InProcess) Run(ctx context.Context, reqs []Request, plan Plan, each func(*Sample)) (*Stats, error) {
	urls := make([]string, len(reqs))
	for i := range reqs {
		urls[i] = inprocessURL + strconv.Itoa(i)
	}
	rt := &doerTransport{ctx: ctx, d: p.d, reqs: reqs}
	t := &target{
		client: &http.Client{Transport: rt},
		url:    func(i int) string { return urls[i] },
		index: func(u string) int {
			i, err := strconv.Atoi(strings.TrimPrefix(u, inprocessURL))
			if err != nil {
				return -1
			}
			return i
		},
		code: func(h http.Header) int {
			c, _ := strconv.Atoi(h.Get(codeHeader))
			return c
		},
	}
	return run(ctx, t, reqs, plan, each)
}

// doerTransport answers a request for index i with the Doer's answer to
// reqs[i].
type doerTransport struct {
	ctx  context.Context
	d    Doer
	reqs []Request
}

// errIndex is the error of a request URL that names no request.
var errIndex = errors.New("workload: in-process request names no request")

// RoundTrip calls the Doer and wraps its answer in a response.
func (t *doerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	i, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/"))
	if err != nil || i < 0 || i >= len(t.reqs) {
		return nil, errIndex
	}
	env, err := t.d.Do(t.ctx, t.reqs[i].Body)
	if err != nil && t.ctx.Err() != nil {
		return nil, t.ctx.Err() // cancelled mid-request: not an answer
	}
	status, code := http.StatusOK, 0
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		status, code = http.StatusBadRequest, ae.Code
	case err != nil:
		status, code = http.StatusInternalServerError, api.CodeInternal
	}
	return &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{codeHeader: {strconv.Itoa(code)}},
		Body:          io.NopCloser(bytes.NewReader(env)),
		ContentLength: int64(len(env)), Request: req,
	}, nil
}
