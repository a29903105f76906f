package gsekit

import (
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
)

// VersionHeader is the response header that carries the data version an
// answer was computed on.
const VersionHeader = "X-Procq-Version"

// ETag returns the entity tag of the answer to body (with the URL's raw
// query, which may ask for extensions) on data version version: a strong
// tag that changes when either does.
func ETag(version uint64, rawQuery string, body []byte) string {
	h := fnv.New64a()
	h.Write([]byte(rawQuery)) //nolint:errcheck // hash writes never fail
	h.Write([]byte{0})        //nolint:errcheck
	h.Write(body)             //nolint:errcheck
	b := make([]byte, 0, 40)
	b = append(b, `"v`...)
	b = strconv.AppendUint(b, version, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, h.Sum64(), 16)
	return string(append(b, '"'))
}

// notModified reports whether the If-None-Match header of r names tag
// (weak comparison, as RFC 9110 section 13.1.2 asks, or "*").
func notModified(r *http.Request, tag string) bool {
	for _, v := range r.Header.Values("If-None-Match") {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "*" || strings.TrimPrefix(part, "W/") == tag {
				return true
			}
		}
	}
	return false
}
