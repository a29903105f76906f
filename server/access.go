package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"unicode"

	"github.com/procq/procq/api"
)

// Errors of Run's checks before it serves; callers branch with errors.Is.
var (
	// ErrAdminUnprotected is returned by Run when admin endpoints that
	// change data or cost a reload would be served on an address that is
	// not loopback without an admin token.
	ErrAdminUnprotected = errors.New("refusing to serve the admin endpoints on a non-loopback address without an admin token (set --admin-token or PROCQ_ADMIN_TOKEN, or listen on 127.0.0.1)")
	// ErrAdminTokenSpace is returned by Run for an admin token that
	// starts or ends with white space, which no client would send back.
	ErrAdminTokenSpace = errors.New("admin token starts or ends with white space")
)

// accessPolicy is the one access policy of every /admin/ endpoint. With a
// token, a request must carry "Authorization: Bearer TOKEN" (the scheme
// matched case-insensitively, RFC 7235; the token compared in constant
// time). Without one, every request is allowed, and checkListener keeps
// the endpoints on loopback listeners.
type accessPolicy struct {
	token     string
	tokenHash [sha256.Size]byte
}

func newAccessPolicy(token string) accessPolicy {
	return accessPolicy{token: token, tokenHash: sha256.Sum256([]byte(token))}
}

// allow reports whether r may use an admin endpoint.
func (p accessPolicy) allow(r *http.Request) bool {
	if p.token == "" {
		return true
	}
	scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	// Hashing first makes the comparison take the same time whatever the
	// given token's length.
	h := sha256.Sum256([]byte(strings.TrimLeft(given, " ")))
	return subtle.ConstantTimeCompare(h[:], p.tokenHash[:]) == 1
}

// checkListener refuses a token with surrounding white space, and
// admin endpoints without a token on addr unless addr is loopback.
// adminServed says whether any admin endpoint that changes data or costs
// a reload is served.
func (p accessPolicy) checkListener(addr net.Addr, adminServed bool) error {
	if p.token != strings.TrimFunc(p.token, unicode.IsSpace) {
		return ErrAdminTokenSpace
	}
	if !adminServed || p.token != "" || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%s: %w", addr, ErrAdminUnprotected)
}

// isLoopback reports whether addr is a TCP address on a loopback IP.
func isLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// admin returns h behind the method check and the access policy: a
// wrong method answers 405, a refused request 401, before h runs.
func (s *Server) admin(endpoint, method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			s.adminFail(w, endpoint, "invalid", http.StatusMethodNotAllowed, api.CodeMethodNotAllowed,
				fmt.Sprintf("method %s not allowed: use %s", r.Method, method))
			return
		}
		if !s.access.allow(r) {
			s.log.Info("admin request refused: bad or missing bearer token", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="procq admin"`)
			s.adminFail(w, endpoint, "unauthorized", http.StatusUnauthorized, api.CodeUnauthorized,
				"missing or wrong bearer token: send Authorization: Bearer TOKEN")
			return
		}
		h(w, r)
	}
}
