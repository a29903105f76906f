package gsekit

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/procq/procq/api"
)

// IsPath reports whether p is an accepted spelling of Path: as is, with a
// doubled leading slash, or without the trailing slash.
func IsPath(p string) bool {
	if strings.HasPrefix(p, "//") {
		p = p[1:]
	}
	return p == Path || p == Path[:len(Path)-1]
}

// Route returns a handler that sends requests whose path IsPath to
// endpoint, answers 404 with the envelope a path with a "." or ".."
// segment, and sends all others to next; a nil next answers them 404 too.
// Route exists because http.ServeMux redirects a doubled slash (with 301,
// which clients follow as GET) before any pattern can match it, and
// answers a dot segment with an empty redirect to the cleaned path (such
// as /v2/../admin/reload to /admin/reload).
func Route(endpoint, next http.Handler) http.Handler {
	if next == nil {
		next = http.HandlerFunc(NotFound)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case IsPath(r.URL.Path):
			endpoint.ServeHTTP(w, r)
		case hasDotSegment(r.URL.Path):
			NotFound(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// hasDotSegment reports whether p has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// NotFound answers 404 with the error envelope naming the path.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, api.CodeNotFound, fmt.Sprintf("no such path %q", r.URL.Path))
}
