package gsekit

import (
	"fmt"
	"net/http"
	"strings"

	"procq/api"
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
// endpoint and all others to next; a nil next answers them 404 with the
// envelope. Route exists because http.ServeMux redirects a doubled slash
// (with 301, which clients follow as GET) before any pattern can match it.
func Route(endpoint, next http.Handler) http.Handler {
	if next == nil {
		next = http.HandlerFunc(NotFound)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsPath(r.URL.Path) {
			endpoint.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NotFound answers 404 with the error envelope naming the path.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, api.CodeNotFound, fmt.Sprintf("no such path %q", r.URL.Path))
}
