package api

import (
	"encoding/json"
	"slices"
	"strings"
)

// Facet fields a request may ask counts of (the "facets" key, an
// extension of procq's: see docs/API.md, "Extensions").
var FacetFields = []string{
	"process_status", "is_auto", "bk_set_id", "bk_module_id",
	"bk_cloud_id", "bk_process_name", "bk_set_env",
}

// DefaultFacetLimit and MaxFacetLimit bound the values a facet lists.
const (
	DefaultFacetLimit = 20
	MaxFacetLimit     = 1000
)

// parseExtensions reads the keys of procq's opt-in extensions, after every
// GSEKit key so that a GSEKit error is reported first.
func parseExtensions(top map[string]json.RawMessage, q *Query) *Error {
	if raw, ok := present(top, "facets"); ok {
		names, e := stringList("facets", raw)
		if e != nil {
			return e
		}
		for i, n := range names {
			if !slices.Contains(FacetFields, n) {
				return invalid(elem("facets", i), "unknown facet "+quote(n)+"; one of "+strings.Join(FacetFields, ", "))
			}
		}
		q.Facets = dedup(names)
	}
	q.FacetLimit = DefaultFacetLimit
	if raw, ok := present(top, "facet_limit"); ok {
		n, e := asInt("facet_limit", raw)
		if e != nil {
			return e
		}
		if n < 1 || n > MaxFacetLimit {
			return rangeError("facet_limit", "1..1000", raw)
		}
		q.FacetLimit = int(n)
	}
	return parseAfter(top, q)
}

// FacetValue is one value of a facet and the number of matches holding it.
type FacetValue struct {
	// Value is the value as JSON: a number, a string or a boolean.
	Value []byte
	// Count is the number of matches holding it.
	Count uint64
}

// Facet is the counts of one facet field over a whole result.
type Facet struct {
	// Field is the facet's name, one of FacetFields.
	Field string
	// Values are the most frequent values, at most the request's
	// facet_limit: count descending, then value ascending.
	Values []FacetValue
	// Other is the number of matches whose value is not in Values.
	Other uint64
}

// AppendFacets appends the member "facets" to the data object of the
// success envelope b, which AppendSuccess wrote (it ends with "}}"): for
// each facet {"values":[{"value":V,"count":N},...],"other":M}.
func AppendFacets(b []byte, facets []Facet) []byte {
	b = append(b[:len(b)-2], `,"facets":{`...)
	for i, f := range facets {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Field)
		b = append(b, `:{"values":[`...)
		for j, v := range f.Values {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"value":`...)
			b = append(b, v.Value...)
			b = append(b, `,"count":`...)
			b = appendUint(b, v.Count)
			b = append(b, '}')
		}
		b = append(b, `],"other":`...)
		b = appendUint(b, f.Other)
		b = append(b, '}')
	}
	return append(b, "}}}"...)
}
