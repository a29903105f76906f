package api

import (
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"slices"
)

// Cursor is the position a cursor page starts after (the "after" key, an
// extension): the sort values and bk_process_id of the previous page's
// last row. A nil *Cursor with Query.Cursor set starts at the first row.
type Cursor struct {
	ID          int64  `json:"i"`
	SetID       int64  `json:"s"`
	ModuleID    int64  `json:"m"`
	ProcessID   int64  `json:"p"`
	ProcessName string `json:"n"`
	InnerIP     string `json:"ip"`
	// Sig is the signature of the request that made the cursor.
	Sig uint64 `json:"g"`
}

// pageKeys are the keys a cursor's signature leaves out: they change
// neither the rows nor their order.
var pageKeys = []string{"page", "pagesize", "after", "fields", "facets", "facet_limit", "bk_app_code", "bk_app_secret", "bk_username"}

// signature is a hash of the members of top that choose and order the
// rows, so that a cursor is refused by a request with another filter or
// ordering (its raw JSON: a different spelling is another request).
func signature(top map[string]json.RawMessage) uint64 {
	keys := make([]string, 0, len(top))
	for k := range top {
		if !slices.Contains(pageKeys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))       //nolint:errcheck // hash writes never fail
		h.Write([]byte{0})       //nolint:errcheck
		h.Write(top[k])          //nolint:errcheck
		h.Write([]byte{0, '\n'}) //nolint:errcheck
	}
	return h.Sum64()
}

// Encode returns the cursor as the opaque string data.next carries.
func (c *Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseAfter reads the "after" key: "" starts at the first row.
func parseAfter(top map[string]json.RawMessage, q *Query) *Error {
	raw, ok := present(top, "after")
	if !ok {
		return nil
	}
	s, e := asString("after", raw)
	if e != nil {
		return e
	}
	q.Cursor, q.Sig = true, signature(top)
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c Cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.ProcessID <= 0 {
		return invalid("after", "not a cursor of procq's: pass data.next of the previous page, or \"\" for the first")
	}
	if c.Sig != q.Sig {
		return invalid("after", "the cursor is from a request with another filter or ordering: a cursor walks one request's pages")
	}
	q.After = &c
	return nil
}
