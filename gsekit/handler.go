// Package gsekit is the GSEKit HTTP surface of an engine: the handler of
// `POST /v2/gsekit/api/process/process_status/` over any source of
// *engine.Engine (typically an engine.Live), the accepted spellings of its
// path (Route, IsPath), the method and body checks, the API gateway's app
// credentials, and the one writer of the response envelope that package
// server's other endpoints use too.
//
// Over HTTP the handler answers the SPEC's envelope in every case:
//
//	200  result true, with the headers X-Procq-Version and ETag
//	304  If-None-Match names the ETag the answer would carry: no body
//	400  a validation (4100001), expression (4111001) or slice (4111003) error
//	401  bad bk_app_code/bk_app_secret, when HandlerOptions.Authorize is set (code 401)
//	404  a path that is not an endpoint, through Route or NotFound (code 404)
//	405  any method but POST (code 405)
//	413  a body over HandlerOptions.MaxBodyBytes (code 4100001)
//	500  an unexpected failure or a recovered panic (code 500, no stack trace)
//	503  no engine loaded yet, the query timed out, or its client went away (code 503)
//
// The codes are those of package api (api.CodeUnavailable and the like).
package gsekit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
)

// Path is the path of the process_status endpoint. The handler Route
// installs also answers it with a doubled leading slash and without the
// trailing slash.
const Path = "/v2/gsekit/api/process/process_status/"

// DefaultMaxBodyBytes is the request body limit of a handler whose
// HandlerOptions.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// HandlerOptions tunes the handler NewHandler returns. The zero value is
// ready to use.
type HandlerOptions struct {
	// MaxBodyBytes caps the request body; 0 means DefaultMaxBodyBytes.
	// A larger body answers 413.
	MaxBodyBytes int64
	// Timeout, when positive, bounds the time one query may take; a query
	// that runs out of it answers 503.
	Timeout time.Duration
	// Authorize, when set, is asked about the bk_app_code and
	// bk_app_secret of every request body (empty when absent or not
	// strings) before it is answered; false answers 401.
	Authorize func(appCode, appSecret string) bool
	// SlowLog, when positive with OnSlow set, is the query time from which
	// a successful request is answered again with explain and OnSlow
	// called with the request, its time and the explain (JSON).
	SlowLog time.Duration
	OnSlow  func(r *http.Request, took time.Duration, explain []byte)
	// Observe, when set, is called once per request after the answer is
	// written, from the request's goroutine.
	Observe func(r *http.Request, o *Outcome)
}

// Outcome describes how one request was answered.
type Outcome struct {
	// Status is the HTTP status.
	Status int
	// Code is the envelope's code: 0 on success.
	Code int
	// Duration is the time from the start of the handler to the end of
	// the write.
	Duration time.Duration
	// Bytes is the size of the response body.
	Bytes int
	// Err is nil on success; otherwise why the request failed: an
	// *api.Error for a validation or expression error, anything else for
	// an unexpected failure.
	Err error
	// Engine is the engine that answered, nil when none did.
	Engine *engine.Engine
	// Stack is the goroutine's stack when the request panicked, for the
	// log; it is never sent to the client.
	Stack []byte
}

// NewHandler returns the handler of the process_status endpoint. Every
// request gets the engine src returns at its start (typically a Live's
// Load), so swapping engines never interrupts a request; src returning
// nil answers 503. The handler does not look at the path: mount it with
// Route, or at Path in a mux. A panic while answering is recovered and
// answers 500.
func NewHandler(src func() *engine.Engine, opts HandlerOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &handler{src: src, opts: opts}
}

type handler struct {
	src  func() *engine.Engine
	opts HandlerOptions
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	o := &Outcome{}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			o.Stack = debug.Stack()
			o.Err = fmt.Errorf("panic: %v", v)
			if o.Status == 0 {
				// Nothing was written yet: the answer is still ours to give.
				h.fail(w, o, http.StatusInternalServerError, api.CodeInternal, "internal error")
			}
		}
		o.Duration = time.Since(start)
		if h.opts.Observe != nil {
			h.opts.Observe(r, o)
		}
	}()
	h.serve(w, r, o)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, o *Outcome) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, o, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed,
			fmt.Sprintf("method %s not allowed: use POST", r.Method))
		return
	}
	body, err := h.readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, o, http.StatusRequestEntityTooLarge, api.CodeValidation,
				fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
			return
		}
		// The client went away or timed out mid-body: say so, though it is
		// unlikely to be read. The error names the peer's address: it
		// goes to Observe, not to the client.
		o.Err = fmt.Errorf("reading request body: %w", err)
		h.fail(w, o, http.StatusBadRequest, api.CodeValidation, "reading request body failed")
		return
	}
	if h.opts.Authorize != nil {
		code, secret := AppCredentials(body)
		if !h.opts.Authorize(code, secret) {
			msg := "bk_app_code/bk_app_secret: app authentication failed"
			if code == "" {
				msg = "bk_app_code: missing; app authentication failed"
			}
			h.fail(w, o, http.StatusUnauthorized, api.CodeUnauthorized, msg)
			return
		}
	}
	e := h.src()
	if e == nil {
		h.fail(w, o, http.StatusServiceUnavailable, api.CodeUnavailable, "no data loaded yet")
		return
	}
	o.Engine = e
	ctx := r.Context()
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
	}
	tag := ETag(e.Version(), r.URL.RawQuery, body)
	if r.Header.Get("If-None-Match") != "" && notModified(r, tag) {
		if _, perr := api.ParseRequest(body); perr == nil {
			h.notModified(w, o, e, tag)
			return
		}
	}
	t0 := time.Now()
	resp, done, err := pooledDo(ctx, e, body, r.URL.Query().Get("explain") == "1")
	defer done()
	if err == nil && h.opts.SlowLog > 0 && h.opts.OnSlow != nil && time.Since(t0) >= h.opts.SlowLog {
		h.explainSlow(r, e, body, time.Since(t0))
	}
	var ae *api.Error
	switch {
	case err == nil:
		setVersion(w, e, tag)
		h.write(w, o, http.StatusOK, 0, resp)
	case errors.As(err, &ae):
		o.Err = err
		h.write(w, o, http.StatusBadRequest, ae.Code, resp)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		o.Err = err
		msg := "query not answered in time"
		if errors.Is(err, context.Canceled) {
			msg = "query canceled: the client went away"
		}
		h.fail(w, o, http.StatusServiceUnavailable, api.CodeUnavailable, msg)
	default:
		// The error goes to Observe; the client learns only that it failed.
		o.Err = err
		h.fail(w, o, http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
}

// answerBufs holds the buffers answers are written into, reused once an
// answer is written out: a page of 1,000 rows is about a megabyte, and a
// fresh buffer for each costs its page faults as well as its allocation.
var answerBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAnswer is the largest buffer kept for reuse: a rare huge answer
// is left to the collector rather than held by the pool.
const maxPooledAnswer = 4 << 20

// pooledDo answers body on e into a buffer of answerBufs; done gives the
// buffer back, once the answer is written out.
func pooledDo(ctx context.Context, e *engine.Engine, body []byte, explain bool) (resp []byte, done func(), err error) {
	bp := answerBufs.Get().(*[]byte)
	resp, err = e.DoWith(ctx, body, engine.DoOptions{Explain: explain, Buf: *bp})
	return resp, func() {
		*bp = resp
		if cap(resp) > maxPooledAnswer {
			*bp = nil
		}
		answerBufs.Put(bp)
	}, err
}

// readBody reads the whole body, at most MaxBodyBytes of it.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength < 0 {
		return io.ReadAll(rd)
	}
	// Known length: room for the body and the read that finds EOF, so the
	// buffer is allocated once.
	buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+bytes.MinRead))
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// explainSlow answers body again on e with explain, for the slow log. It
// costs a second run of the query, paid by slow requests only.
func (h *handler) explainSlow(r *http.Request, e *engine.Engine, body []byte, took time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), max(h.opts.Timeout, time.Second))
	defer cancel()
	resp, err := e.DoWith(ctx, body, engine.DoOptions{Explain: true})
	if err != nil {
		return
	}
	var env struct {
		Data struct {
			Explain json.RawMessage `json:"explain"`
		} `json:"data"`
	}
	if json.Unmarshal(resp, &env) == nil {
		h.opts.OnSlow(r, took, env.Data.Explain)
	}
}

// setVersion sets the headers of a versioned answer: the data version
// and the entity tag.
func setVersion(w http.ResponseWriter, e *engine.Engine, tag string) {
	hd := w.Header()
	hd.Set(VersionHeader, strconv.FormatUint(e.Version(), 10))
	hd.Set("ETag", tag)
}

// notModified answers 304 with no body: the client's copy, tagged tag, is
// still the answer on e's data.
func (h *handler) notModified(w http.ResponseWriter, o *Outcome, e *engine.Engine, tag string) {
	setVersion(w, e, tag)
	o.Status = http.StatusNotModified
	w.WriteHeader(http.StatusNotModified)
}

// fail writes an error envelope with a message of the handler's own.
func (h *handler) fail(w http.ResponseWriter, o *Outcome, status, code int, msg string) {
	if o.Err == nil {
		o.Err = &api.Error{Code: code, Message: msg}
	}
	h.write(w, o, status, code, api.AppendError(nil, &api.Error{Code: code, Message: msg}))
}

func (h *handler) write(w http.ResponseWriter, o *Outcome, status, code int, body []byte) {
	o.Status, o.Code, o.Bytes = status, code, len(body)
	WriteJSON(w, status, body)
}
