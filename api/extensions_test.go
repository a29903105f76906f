package api

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFacets(t *testing.T) {
	const head = `{"bk_biz_id":2,"scope":{},"page":1,"pagesize":1`
	for _, tc := range []struct {
		name, extra string
		facets      []string
		limit       int
		errHas      string
	}{
		{"absent", ``, nil, DefaultFacetLimit, ""},
		{"null", `,"facets":null,"facet_limit":null`, nil, DefaultFacetLimit, ""},
		{"some", `,"facets":["is_auto","bk_set_env","is_auto"],"facet_limit":5`, []string{"is_auto", "bk_set_env"}, 5, ""},
		{"all", `,"facets":["process_status","is_auto","bk_set_id","bk_module_id","bk_cloud_id","bk_process_name","bk_set_env"]`, FacetFields, DefaultFacetLimit, ""},
		{"unknown", `,"facets":["is_auto","bk_set_name"]`, nil, 0, `facets[1]: unknown facet "bk_set_name"`},
		{"not a list", `,"facets":"is_auto"`, nil, 0, "facets"},
		{"limit 0", `,"facet_limit":0`, nil, 0, "facet_limit"},
		{"limit too big", `,"facet_limit":1001`, nil, 0, "facet_limit"},
		{"limit string", `,"facet_limit":"x"`, nil, 0, "facet_limit"},
		{"limit max", `,"facet_limit":1000`, nil, 1000, ""},
	} {
		q, err := ParseRequest([]byte(head + tc.extra + `}`))
		if tc.errHas != "" {
			e, ok := err.(*Error)
			if !ok || e.Code != CodeValidation || !strings.Contains(e.Message, tc.errHas) {
				t.Errorf("%s: err %v, want code %d naming %q", tc.name, err, CodeValidation, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(q.Facets, tc.facets) || q.FacetLimit != tc.limit {
			t.Errorf("%s: facets %v limit %d, want %v %d", tc.name, q.Facets, q.FacetLimit, tc.facets, tc.limit)
		}
	}
}

func TestAppendFacets(t *testing.T) {
	b := AppendSuccess(nil, 3, nil, 0)
	b = AppendFacets(b, []Facet{{Field: "is_auto", Values: []FacetValue{{Value: []byte("true"), Count: 2}}, Other: 1}, {Field: "bk_set_env"}})
	want := `{"result":true,"code":0,"message":"","data":{"count":3,"list":[],"facets":{"is_auto":{"values":[{"value":true,"count":2}],"other":1},"bk_set_env":{"values":[],"other":0}}}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestParseAfter(t *testing.T) {
	const req = `{"bk_biz_id":2,"scope":{},"ordering":"bk_set_id","pagesize":3,"after":%s}`
	first, err := ParseRequest([]byte(strings.Replace(req, "%s", `""`, 1)))
	if err != nil || !first.Cursor || first.After != nil || first.Offset != 0 || first.Limit != 3 {
		t.Fatalf("first page: %+v %v", first, err)
	}
	c := (&Cursor{ProcessID: 9, SetID: 4, Sig: first.Sig}).Encode()
	q, err := ParseRequest([]byte(strings.Replace(req, "%s", `"`+c+`"`, 1)))
	if err != nil || q.After == nil || q.After.ProcessID != 9 || q.After.SetID != 4 {
		t.Fatalf("next page: %+v %v", q, err)
	}
	for _, tc := range []struct{ name, body, has string }{
		{"another ordering", strings.Replace(strings.Replace(req, "bk_set_id", "-bk_set_id", 1), "%s", `"`+c+`"`, 1), "another filter or ordering"},
		{"another filter", strings.Replace(strings.Replace(req, `"scope":{}`, `"scope":{"bk_set_env":"1"}`, 1), "%s", `"`+c+`"`, 1), "another filter or ordering"},
		{"garbage", strings.Replace(req, "%s", `"zz!"`, 1), "not a cursor"},
		{"not a string", strings.Replace(req, "%s", `7`, 1), "after"},
		{"no pagesize", `{"bk_biz_id":2,"scope":{},"after":""}`, "pagesize"},
	} {
		_, err := ParseRequest([]byte(tc.body))
		e, ok := err.(*Error)
		if !ok || e.Code != CodeValidation || !strings.Contains(e.Message, tc.has) {
			t.Errorf("%s: %v, want 4100001 with %q", tc.name, err, tc.has)
		}
	}
}
