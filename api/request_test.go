package api

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/procq/procq/record"
)

// base is a minimal valid request; rows append members to it, and since a
// repeated key's last value wins, a member appended overrides base's.
const base = `{"bk_biz_id":1,"page":1,"pagesize":10,"scope":{}`

func req(members string) string { return base + members + "}" }

// exprReq is a valid request with expression_scope x and no scope.
func exprReq(x string) string {
	return `{"bk_biz_id":1,"page":1,"pagesize":10,"expression_scope":` + x + "}"
}

type parseCase struct {
	name string
	body string
	// field, when set, is the field the validation error must name;
	// otherwise the request must be valid.
	field string
	// msg, when set, is the exact error message.
	msg string
}

var parseCases = []parseCase{
	// The body.
	{name: "body malformed", body: `{"bk_biz_id":1`, field: "request body"},
	{name: "body trailing comma", body: `{"bk_biz_id":1,}`, field: "request body"},
	{name: "body empty", body: ``, field: "request body"},
	{name: "body blank", body: " \n", field: "request body"},
	{name: "body two values", body: base + "} {}", field: "request body"},
	{name: "body list", body: `[]`, field: "request body", msg: "request body: must be an object, got list"},
	{name: "body string", body: `"x"`, field: "request body"},
	{name: "body null", body: `null`, field: "request body"},
	{name: "body number", body: `1`, field: "request body"},
	{name: "body surrounded by white space", body: " \t\r\n" + req("") + "\n"},
	{name: "white space everywhere", body: " { \"bk_biz_id\" : \"7\" ,\n\t\"page\" : 2 , \"pagesize\" : 3 , \"scope\" : { \"bk_set_ids\" : [ 1 , \"2\" ] } } "},
	{name: "white space in shown value", body: req(` , "page" : [ 1 , { "a" : 2 } ] `), field: "page", msg: `page: must be an integer, got list [1, {"a": 2}]`},

	// bk_biz_id and the integer forms.
	{name: "biz missing", body: `{"page":1,"pagesize":10,"scope":{}}`, field: "bk_biz_id", msg: "bk_biz_id: is required"},
	{name: "biz null", body: req(`,"bk_biz_id":null`), field: "bk_biz_id"},
	{name: "biz string digits", body: req(`,"bk_biz_id":"7"`)},
	{name: "biz leading zero string", body: req(`,"bk_biz_id":"01"`)},
	{name: "biz negative string", body: req(`,"bk_biz_id":"-5"`)},
	{name: "biz negative zero", body: req(`,"bk_biz_id":-0`)},
	{name: "biz max int64", body: req(`,"bk_biz_id":9223372036854775807`)},
	{name: "biz min int64 string", body: req(`,"bk_biz_id":"-9223372036854775808"`)},
	{name: "biz escaped digits", body: req(`,"bk_biz_id":"\u0034\u0032"`)},
	{name: "biz fraction", body: req(`,"bk_biz_id":1.0`), field: "bk_biz_id", msg: "bk_biz_id: must be an integer, got number 1.0"},
	{name: "biz exponent", body: req(`,"bk_biz_id":1e3`), field: "bk_biz_id"},
	{name: "biz plus string", body: req(`,"bk_biz_id":"+1"`), field: "bk_biz_id"},
	{name: "biz space string", body: req(`,"bk_biz_id":" 1"`), field: "bk_biz_id"},
	{name: "biz trailing space string", body: req(`,"bk_biz_id":"1 "`), field: "bk_biz_id"},
	{name: "biz empty string", body: req(`,"bk_biz_id":""`), field: "bk_biz_id"},
	{name: "biz minus only", body: req(`,"bk_biz_id":"-"`), field: "bk_biz_id"},
	{name: "biz fraction string", body: req(`,"bk_biz_id":"1.0"`), field: "bk_biz_id"},
	{name: "biz non-ASCII digit", body: req(`,"bk_biz_id":"١"`), field: "bk_biz_id"},
	{name: "biz bool", body: req(`,"bk_biz_id":true`), field: "bk_biz_id", msg: "bk_biz_id: must be an integer, got bool true"},
	{name: "biz word", body: req(`,"bk_biz_id":"abc"`), field: "bk_biz_id", msg: `bk_biz_id: must be an integer, got string "abc"`},
	{name: "biz list", body: req(`,"bk_biz_id":[1]`), field: "bk_biz_id"},
	{name: "biz above int64", body: req(`,"bk_biz_id":9223372036854775808`), field: "bk_biz_id", msg: "bk_biz_id: must be within int64, got 9223372036854775808"},
	{name: "biz above int64 string", body: req(`,"bk_biz_id":"9223372036854775808"`), field: "bk_biz_id"},
	{name: "biz below int64", body: req(`,"bk_biz_id":-9223372036854775809`), field: "bk_biz_id"},

	// page and pagesize.
	{name: "page missing", body: `{"bk_biz_id":1,"pagesize":10,"scope":{}}`, field: "page"},
	{name: "page null", body: req(`,"page":null`), field: "page"},
	{name: "page zero", body: req(`,"page":0`), field: "page", msg: "page: must be >= 1, got 0"},
	{name: "page negative string", body: req(`,"page":"-3"`), field: "page", msg: `page: must be >= 1, got "-3"`},
	{name: "page fraction", body: req(`,"page":1.5`), field: "page"},
	{name: "page string", body: req(`,"page":"3","pagesize":7`)},
	{name: "pagesize missing", body: `{"bk_biz_id":1,"page":1,"scope":{}}`, field: "pagesize"},
	{name: "pagesize null", body: req(`,"pagesize":null`), field: "pagesize"},
	{name: "pagesize zero string", body: req(`,"pagesize":"0"`), field: "pagesize"},
	{name: "pagesize negative", body: req(`,"pagesize":-10`), field: "pagesize"},
	{name: "pagesize fraction", body: req(`,"pagesize":2.25`), field: "pagesize", msg: "pagesize: must be an integer, got number 2.25"},
	{name: "pagesize bool", body: req(`,"pagesize":false`), field: "pagesize"},

	// One of scope / expression_scope.
	{name: "no scope", body: `{"bk_biz_id":1,"page":1,"pagesize":10}`, field: "scope"},
	{name: "both scopes null", body: req(`,"scope":null,"expression_scope":null`), field: "scope"},
	{name: "scope list", body: req(`,"scope":[]`), field: "scope", msg: "scope: must be an object, got list"},
	{name: "scope string", body: req(`,"scope":"x"`), field: "scope"},
	{name: "expression_scope list", body: exprReq(`[]`), field: "expression_scope", msg: "expression_scope: must be an object, got list"},
	{name: "expression_scope number", body: exprReq(`1`), field: "expression_scope"},
	{name: "scope null falls to expression_scope", body: req(`,"scope":null,"expression_scope":{"bk_set_env":"1"}`)},
	{name: "scope wins, expression_scope not validated", body: req(`,"expression_scope":{"bk_set_env":9,"bk_set_name":1}`)},
	{name: "scope wins over expression_scope of wrong type", body: req(`,"expression_scope":[1]`)},

	// scope.bk_set_env.
	{name: "scope env absent", body: req(``)},
	{name: "scope env null", body: req(`,"scope":{"bk_set_env":null}`)},
	{name: "scope env string", body: req(`,"scope":{"bk_set_env":"0"}`)},
	{name: "scope env integer", body: req(`,"scope":{"bk_set_env":2}`)},
	{name: "scope env out of range string", body: req(`,"scope":{"bk_set_env":"4"}`), field: "scope.bk_set_env", msg: `scope.bk_set_env: must be "0", "1", "2" or "3", got "4"`},
	{name: "scope env out of range integer", body: req(`,"scope":{"bk_set_env":4}`), field: "scope.bk_set_env"},
	{name: "scope env negative", body: req(`,"scope":{"bk_set_env":-1}`), field: "scope.bk_set_env"},
	{name: "scope env leading zero", body: req(`,"scope":{"bk_set_env":"03"}`), field: "scope.bk_set_env"},
	{name: "scope env padded", body: req(`,"scope":{"bk_set_env":" 3"}`), field: "scope.bk_set_env"},
	{name: "scope env fraction", body: req(`,"scope":{"bk_set_env":3.0}`), field: "scope.bk_set_env"},
	{name: "scope env bool", body: req(`,"scope":{"bk_set_env":true}`), field: "scope.bk_set_env", msg: "scope.bk_set_env: must be a string or an integer, got bool true"},

	// scope lists.
	{name: "scope lists", body: req(`,"scope":{"bk_set_ids":[1,"02"],"bk_module_ids":[],"bk_service_ids":null,"bk_process_names":["a",""],"bk_process_ids":["-1",9223372036854775807]}`)},
	{name: "scope set ids not a list", body: req(`,"scope":{"bk_set_ids":"1"}`), field: "scope.bk_set_ids"},
	{name: "scope set ids null element", body: req(`,"scope":{"bk_set_ids":[1,null]}`), field: "scope.bk_set_ids[1]", msg: "scope.bk_set_ids[1]: must be an integer, got null null"},
	{name: "scope set ids fraction element", body: req(`,"scope":{"bk_set_ids":[1,2,1.5]}`), field: "scope.bk_set_ids[2]"},
	{name: "scope module ids bool", body: req(`,"scope":{"bk_module_ids":[true]}`), field: "scope.bk_module_ids[0]"},
	{name: "scope service ids object", body: req(`,"scope":{"bk_service_ids":[{}]}`), field: "scope.bk_service_ids[0]"},
	{name: "scope process ids word", body: req(`,"scope":{"bk_process_ids":[1,"x"]}`), field: "scope.bk_process_ids[1]"},
	{name: "scope process ids above int64", body: req(`,"scope":{"bk_process_ids":["99999999999999999999"]}`), field: "scope.bk_process_ids[0]"},
	{name: "scope process names integer", body: req(`,"scope":{"bk_process_names":["a",1]}`), field: "scope.bk_process_names[1]"},
	{name: "scope process names string", body: req(`,"scope":{"bk_process_names":"a"}`), field: "scope.bk_process_names"},
	{name: "scope unknown key", body: req(`,"scope":{"bk_set_idz":"x","BK_SET_IDS":"y"}`)},

	// expression_scope.
	{name: "expr env missing", body: exprReq(`{"bk_set_name":"a"}`), field: "expression_scope.bk_set_env", msg: "expression_scope.bk_set_env: is required"},
	{name: "expr env null", body: exprReq(`{"bk_set_env":null}`), field: "expression_scope.bk_set_env"},
	{name: "expr env integer", body: exprReq(`{"bk_set_env":0}`)},
	{name: "expr env out of range", body: exprReq(`{"bk_set_env":"5"}`), field: "expression_scope.bk_set_env"},
	{name: "expr fields", body: exprReq(`{"bk_set_env":"1","bk_set_name":"  a*b \t","bk_module_name":"  ","service_instance_name":null,"bk_process_name":"[12]","bk_process_id":" [0:3] ","x":1}`)},
	{name: "expr set name integer", body: exprReq(`{"bk_set_env":"1","bk_set_name":1}`), field: "expression_scope.bk_set_name"},
	{name: "expr module name list", body: exprReq(`{"bk_set_env":"1","bk_module_name":["a"]}`), field: "expression_scope.bk_module_name"},
	{name: "expr service instance name bool", body: exprReq(`{"bk_set_env":"1","service_instance_name":false}`), field: "expression_scope.service_instance_name"},
	{name: "expr process name object", body: exprReq(`{"bk_set_env":"1","bk_process_name":{}}`), field: "expression_scope.bk_process_name"},
	{name: "expr process id integer", body: exprReq(`{"bk_set_env":"1","bk_process_id":123}`), field: "expression_scope.bk_process_id"},

	// Top-level filters.
	{name: "cloud ids", body: req(`,"bk_cloud_ids":[0,"3"]`)},
	{name: "cloud ids element", body: req(`,"bk_cloud_ids":[1,"a"]`), field: "bk_cloud_ids[1]"},
	{name: "cloud ids not a list", body: req(`,"bk_cloud_ids":1`), field: "bk_cloud_ids"},
	{name: "innerips exact", body: req(`,"bk_host_innerips":[""," 10.0.0.1 "]`)},
	{name: "innerips element", body: req(`,"bk_host_innerips":["10.0.0.1",1]`), field: "bk_host_innerips[1]"},
	{name: "innerips not a list", body: req(`,"bk_host_innerips":"10.0.0.1"`), field: "bk_host_innerips"},
	{name: "status string", body: req(`,"process_status":"1"`)},
	{name: "status null", body: req(`,"process_status":null`)},
	{name: "status out of range", body: req(`,"process_status":3`), field: "process_status", msg: "process_status: must be 0, 1 or 2, got 3"},
	{name: "status negative", body: req(`,"process_status":-1`), field: "process_status"},
	{name: "status bool", body: req(`,"process_status":true`), field: "process_status"},
	{name: "status list given", body: req(`,"process_status":[1]`), field: "process_status"},
	{name: "status list", body: req(`,"process_status_list":[0,"1",2]`)},
	{name: "status list empty", body: req(`,"process_status_list":[]`)},
	{name: "status list out of range", body: req(`,"process_status_list":[0,3]`), field: "process_status_list[1]"},
	{name: "status list null element", body: req(`,"process_status_list":[null]`), field: "process_status_list[0]"},
	{name: "status list not a list", body: req(`,"process_status_list":1`), field: "process_status_list"},
	{name: "is_auto false", body: req(`,"is_auto":false`)},
	{name: "is_auto null", body: req(`,"is_auto":null`)},
	{name: "is_auto integer", body: req(`,"is_auto":1`), field: "is_auto"},
	{name: "is_auto string", body: req(`,"is_auto":"true"`), field: "is_auto"},
	{name: "is_auto_list", body: req(`,"is_auto_list":[true,false]`)},
	{name: "is_auto_list integer", body: req(`,"is_auto_list":[true,2]`), field: "is_auto_list[1]", msg: "is_auto_list[1]: must be a bool, got integer 2"},
	{name: "is_auto_list string", body: req(`,"is_auto_list":["true"]`), field: "is_auto_list[0]"},
	{name: "is_auto_list not a list", body: req(`,"is_auto_list":true`), field: "is_auto_list"},

	// searches.
	{name: "searches trimmed", body: req(`,"searches":["  a ","b"]`)},
	{name: "searches empty", body: req(`,"searches":[]`)},
	{name: "searches string", body: req(`,"searches":"10.0"`), field: "searches", msg: `searches: must be a list, got string "10.0"`},
	{name: "searches blank", body: req(`,"searches":["a"," \t\n"]`), field: "searches[1]"},
	{name: "searches empty term", body: req(`,"searches":[""]`), field: "searches[0]"},
	{name: "searches null term", body: req(`,"searches":["10.0",null]`), field: "searches[1]", msg: "searches[1]: must be a string, got null null"},
	{name: "searches object term", body: req(`,"searches":["10.0",{"k":1}]`), field: "searches[1]", msg: `searches[1]: must be a string, got object {"k": 1}`},

	// ordering.
	{name: "ordering blank", body: req(`,"ordering":"  "`)},
	{name: "ordering empty", body: req(`,"ordering":""`)},
	{name: "ordering keys", body: req(`,"ordering":" -id , bk_set_id"`)},
	{name: "ordering all keys", body: req(`,"ordering":"id,bk_set_id,bk_module_id,bk_process_name,bk_process_id,bk_host_innerip"`)},
	{name: "ordering repeated key", body: req(`,"ordering":"-bk_module_id,bk_module_id,id,-id"`)},
	{name: "ordering empty key", body: req(`,"ordering":"id,"`), field: "ordering"},
	{name: "ordering leading comma", body: req(`,"ordering":",id"`), field: "ordering"},
	{name: "ordering double minus", body: req(`,"ordering":"--id"`), field: "ordering", msg: `ordering: unknown key "--id"`},
	{name: "ordering unknown", body: req(`,"ordering":"id,bogus"`), field: "ordering", msg: `ordering: unknown key "bogus"`},
	{name: "ordering upper case", body: req(`,"ordering":"ID"`), field: "ordering"},
	{name: "ordering not sortable field", body: req(`,"ordering":"bk_biz_id"`), field: "ordering"},
	{name: "ordering minus alone", body: req(`,"ordering":"-"`), field: "ordering"},
	{name: "ordering space after minus", body: req(`,"ordering":"- id"`), field: "ordering"},
	{name: "ordering list", body: req(`,"ordering":["id"]`), field: "ordering"},
	{name: "ordering integer", body: req(`,"ordering":1`), field: "ordering"},

	// fields.
	{name: "fields duplicates", body: req(`,"fields":["id","bk_process_id","id"]`)},
	{name: "fields empty", body: req(`,"fields":[]`)},
	{name: "fields unknown", body: req(`,"fields":["foo"]`), field: "fields[0]", msg: `fields[0]: unknown field "foo"`},
	{name: "fields upper case", body: req(`,"fields":["id","ID"]`), field: "fields[1]"},
	{name: "fields padded", body: req(`,"fields":[" id"]`), field: "fields[0]"},
	{name: "fields nested list", body: req(`,"fields":["bk_process_id",["id"]]`), field: "fields[1]", msg: `fields[1]: must be a string, got list ["id"]`},
	{name: "fields string", body: req(`,"fields":"id"`), field: "fields"},
	{name: "fields null element", body: req(`,"fields":[null]`), field: "fields[0]"},

	// Gateway, unknown and repeated keys.
	{name: "gateway fields any type", body: req(`,"bk_app_code":1,"bk_app_secret":{},"bk_username":[null]`)},
	{name: "unknown keys", body: req(`,"foo":[1,{"a":null}],"Page":"x"`)},
	{name: "repeated key last wins", body: req(`,"page":0,"page":1`)},
	{name: "repeated key last wins invalid", body: req(`,"page":1,"page":0`), field: "page"},

	// Precedence: the first broken field in SPEC section 2 order.
	{name: "precedence biz before page", body: `{"bk_biz_id":"x","page":0,"pagesize":0}`, field: "bk_biz_id"},
	{name: "precedence scope before filters", body: req(`,"scope":{"bk_set_ids":"x"},"searches":1`), field: "scope.bk_set_ids"},
	{name: "precedence fields before page", body: req(`,"fields":["x"],"page":0`), field: "fields[0]"},
}

func TestParseRequest(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseRequest([]byte(c.body))
			if c.field == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if q == nil {
					t.Fatal("nil query")
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error naming %s, got %+v", c.field, q)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Code != CodeValidation {
				t.Errorf("code %d, want %d", e.Code, CodeValidation)
			}
			if !strings.HasPrefix(e.Message, c.field+": ") {
				t.Errorf("message %q does not name %s", e.Message, c.field)
			}
			if c.msg != "" && e.Message != c.msg {
				t.Errorf("message %q, want %q", e.Message, c.msg)
			}
		})
	}
}

// mustParse parses a request that must be valid.
func mustParse(t *testing.T, body string) *Query {
	t.Helper()
	q, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return q
}

// TestParseRequestValues checks what valid requests decode to.
func TestParseRequestValues(t *testing.T) {
	cases := []struct {
		name string
		body string
		got  func(*Query) any
		want any
	}{
		{"biz string", req(`,"bk_biz_id":"01"`), func(q *Query) any { return q.BizID }, int64(1)},
		{"biz negative zero", req(`,"bk_biz_id":"-0"`), func(q *Query) any { return q.BizID }, int64(0)},
		{"biz max", req(`,"bk_biz_id":"9223372036854775807"`), func(q *Query) any { return q.BizID }, int64(math.MaxInt64)},
		{"biz min", req(`,"bk_biz_id":-9223372036854775808`), func(q *Query) any { return q.BizID }, int64(math.MinInt64)},
		{"biz escaped", req(`,"bk_biz_id":"\u0034\u0032"`), func(q *Query) any { return q.BizID }, int64(42)},

		{"page", req(`,"page":"3","pagesize":7`), func(q *Query) any { return [2]any{q.Offset, q.Limit} }, [2]any{uint64(14), 7}},
		{"first page", req(`,"pagesize":1000`), func(q *Query) any { return [2]any{q.Offset, q.Limit} }, [2]any{uint64(0), 1000}},
		{"cap before offset", req(`,"page":2,"pagesize":5000`), func(q *Query) any { return [2]any{q.Offset, q.Limit} }, [2]any{uint64(1000), 1000}},
		{"offset saturates", req(`,"page":9223372036854775807,"pagesize":"9223372036854775807"`), func(q *Query) any { return [2]any{q.Offset, q.Limit} }, [2]any{uint64(math.MaxUint64), 1000}},
		{"offset near max", req(`,"page":9223372036854775807,"pagesize":1`), func(q *Query) any { return q.Offset }, uint64(math.MaxInt64 - 1)},

		{"scope default env", req(``), func(q *Query) any { return *q.Scope }, Scope{Env: "3"}},
		{"scope null env", req(`,"scope":{"bk_set_env":null}`), func(q *Query) any { return q.Scope.Env }, "3"},
		{"scope integer env", req(`,"scope":{"bk_set_env":0}`), func(q *Query) any { return q.Scope.Env }, "0"},
		{"scope lists", req(`,"scope":{"bk_set_env":"2","bk_set_ids":[1,"02"],"bk_module_ids":[],"bk_service_ids":null,"bk_process_names":["a",""],"bk_process_ids":["-1",9223372036854775807]}`),
			func(q *Query) any { return *q.Scope },
			Scope{Env: "2", SetIDs: []int64{1, 2}, ProcessNames: []string{"a", ""}, ProcessIDs: []int64{-1, math.MaxInt64}}},
		{"scope wins", req(`,"expression_scope":{"bk_set_env":9}`), func(q *Query) any { return q.Expr == nil && q.Scope != nil }, true},
		{"scope null", req(`,"scope":null,"expression_scope":{"bk_set_env":3}`), func(q *Query) any { return q.Scope == nil && q.Expr != nil }, true},

		{"expr", exprReq(`{"bk_set_env":"1","bk_set_name":"  a*b \t","bk_module_name":"  ","service_instance_name":null,"bk_process_name":"[12]","bk_process_id":" [0:3] ","x":1}`),
			func(q *Query) any { return exprText(q) },
			ExprScope{Env: "1", SetName: "a*b", ProcessName: "[12]", ProcessID: "[0:3]"}},
		{"expr trims only ASCII space", exprReq(`{"bk_set_env":2,"bk_set_name":"\u3000管控平台\u000b\f"}`),
			func(q *Query) any { return exprText(q) }, ExprScope{Env: "2", SetName: "\u3000管控平台"}},

		{"cloud ids", req(`,"bk_cloud_ids":[0,"3"]`), func(q *Query) any { return q.CloudIDs }, []int64{0, 3}},
		{"cloud ids empty", req(`,"bk_cloud_ids":[]`), func(q *Query) any { return len(q.CloudIDs) }, 0},
		{"innerips exact", req(`,"bk_host_innerips":[""," 10.0.0.1 "]`), func(q *Query) any { return q.InnerIPs }, []string{"", " 10.0.0.1 "}},
		{"status", req(`,"process_status":"1"`), func(q *Query) any { return q.Status }, []int64{1}},
		{"status zero", req(`,"process_status":0`), func(q *Query) any { return q.Status }, []int64{0}},
		{"status absent", req(``), func(q *Query) any { return q.Status == nil }, true},
		{"status null", req(`,"process_status":null`), func(q *Query) any { return q.Status == nil }, true},
		{"status list", req(`,"process_status_list":[0,"1",2]`), func(q *Query) any { return q.StatusList }, []int64{0, 1, 2}},
		{"status and list", req(`,"process_status":2,"process_status_list":[0]`), func(q *Query) any { return [2][]int64{q.Status, q.StatusList} }, [2][]int64{{2}, {0}}},
		{"is_auto false", req(`,"is_auto":false`), func(q *Query) any { return q.IsAuto }, []bool{false}},
		{"is_auto absent", req(`,"is_auto":null`), func(q *Query) any { return q.IsAuto == nil }, true},
		{"is_auto_list", req(`,"is_auto_list":[true,false]`), func(q *Query) any { return q.IsAutoList }, []bool{true, false}},
		{"searches", req(`,"searches":["  a ","b","\t区域A\n"]`), func(q *Query) any { return q.Searches }, []string{"a", "b", "区域A"}},
		{"searches empty", req(`,"searches":[]`), func(q *Query) any { return len(q.Searches) }, 0},

		{"ordering blank", req(`,"ordering":" "`), func(q *Query) any { return len(q.Ordering) }, 0},
		{"ordering keys", req(`,"ordering":" -id , bk_set_id"`), func(q *Query) any { return q.Ordering },
			[]OrderKey{{record.FieldID, true}, {record.FieldSetID, false}}},
		{"ordering all keys", req(`,"ordering":"id,-bk_set_id,bk_module_id,-bk_process_name,bk_process_id,-bk_host_innerip"`), func(q *Query) any { return q.Ordering },
			[]OrderKey{{record.FieldID, false}, {record.FieldSetID, true}, {record.FieldModuleID, false}, {record.FieldProcessName, true}, {record.FieldProcessID, false}, {record.FieldInnerIP, true}}},
		{"ordering repeated key keeps first", req(`,"ordering":"-bk_module_id,bk_module_id,id,-id"`), func(q *Query) any { return q.Ordering },
			[]OrderKey{{record.FieldModuleID, true}, {record.FieldID, false}}},

		{"fields", req(`,"fields":["id","bk_process_id","id"]`), func(q *Query) any { return q.Fields },
			record.FieldSet(0).With(record.FieldID).With(record.FieldProcessID)},
		{"fields empty", req(`,"fields":[]`), func(q *Query) any { return q.Fields }, record.FieldSet(0)},
		{"fields absent", req(``), func(q *Query) any { return q.Fields }, record.FieldSet(0)},
		{"repeated key", req(`,"page":0,"page":2`), func(q *Query) any { return q.Offset }, uint64(10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := mustParse(t, c.body)
			if got := c.got(q); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

// exprText is q's expression_scope without its compiled form.
func exprText(q *Query) ExprScope {
	x := *q.Expr
	x.Compiled = nil
	return x
}

// TestCompiled checks that a parsed expression_scope carries its five
// expressions compiled, with the slice apart from the pattern.
func TestCompiled(t *testing.T) {
	cases := []struct {
		name, x  string
		match    [5]string // set, module, service, process, pid text
		want     bool
		sliceLen int // -1: not a slice; else Bounds(10) length
	}{
		{"patterns", `{"bk_set_env":"0","bk_set_name":"a*","bk_module_name":"[m1, m2]","service_instance_name":"?","bk_process_name":"p[1-3]","bk_process_id":"[10-20]"}`,
			[5]string{"ab", "m2", "s", "p3", "15"}, true, -1},
		{"one field fails", `{"bk_set_env":"0","bk_set_name":"a*","bk_process_id":"[10-20]"}`,
			[5]string{"ab", "x", "y", "z", "21"}, false, -1},
		{"blank is everything", `{"bk_set_env":"0","bk_module_name":" "}`,
			[5]string{"", "any", "thing", "at all", "7"}, true, -1},
		{"slice", `{"bk_set_env":"0","bk_set_name":"a*","bk_process_id":"[-3:]"}`,
			[5]string{"ab", "m", "s", "p", ""}, true, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := mustParse(t, exprReq(c.x))
			cs := q.Expr.Compiled
			if cs == nil {
				t.Fatal("not compiled")
			}
			if (cs.Slice != nil) != (c.sliceLen >= 0) || (cs.Slice != nil) == (cs.ProcessID != nil) {
				t.Fatalf("slice %v, pid pattern %v", cs.Slice, cs.ProcessID)
			}
			got := cs.SetName.Match(c.match[0]) && cs.ModuleName.Match(c.match[1]) &&
				cs.ServiceInstanceName.Match(c.match[2]) && cs.ProcessName.Match(c.match[3])
			if cs.Slice != nil {
				if s, e := cs.Slice.Bounds(10); e-s != c.sliceLen {
					t.Errorf("slice of 10 has %d items, want %d", e-s, c.sliceLen)
				}
			} else {
				got = got && cs.ProcessID.Match(c.match[4])
			}
			if got != c.want {
				t.Errorf("match %v, want %v", got, c.want)
			}
		})
	}
}

// TestErrorOrder checks SPEC section 10's precedence inside the one
// parsing pass: validation, then expression syntax in any field, then the
// slice.
func TestErrorOrder(t *testing.T) {
	cases := []struct {
		name, body string
		code       int
		msg        string // a part of the message
	}{
		{"validation before syntax", `{"bk_biz_id":1,"page":0,"pagesize":10,"expression_scope":{"bk_set_env":"0","bk_set_name":"[a"}}`, CodeValidation, "page"},
		{"validation after the scope before syntax", `{"bk_biz_id":1,"page":1,"pagesize":10,"ordering":"x","expression_scope":{"bk_set_env":"0","bk_set_name":"[a"}}`, CodeValidation, "ordering"},
		{"syntax", exprReq(`{"bk_set_env":"0","bk_module_name":"x[1"}`), CodeExprSyntax, "expression_scope.bk_module_name: "},
		{"first field in SPEC order", exprReq(`{"bk_set_env":"0","bk_process_name":"[p","bk_set_name":"[s"}`), CodeExprSyntax, "expression_scope.bk_set_name: "},
		{"syntax in a later field before slice", exprReq(`{"bk_set_env":"0","bk_process_id":"[0:3]x","bk_process_name":"[p"}`), CodeExprSyntax, "bk_process_name"},
		{"slice then unclosed bracket", exprReq(`{"bk_set_env":"0","bk_process_id":"[0:3][1:"}`), CodeExprSyntax, "bk_process_id"},
		{"text after slice", exprReq(`{"bk_set_env":"0","bk_process_id":"[0:3]x"}`), CodeSlice, "expression_scope.bk_process_id: "},
		{"bound beyond int64", exprReq(`{"bk_set_env":"0","bk_process_id":"[99999999999999999999:]"}`), CodeSlice, "bk_process_id"},
		{"scope wins", req(`,"expression_scope":{"bk_set_name":"[","bk_process_id":"[0:3]x"}`), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(c.body))
			var e *Error
			if c.code == 0 {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("got %v, want code %d naming %q", err, c.code, c.msg)
			}
		})
	}
}

// TestListsDeduplicated checks that every list keeps one copy of each
// value, first occurrence first, while errors still name the element's
// place in the list as sent.
func TestListsDeduplicated(t *testing.T) {
	many := func(item string, n int) string { return "[" + strings.Repeat(item+",", n-1) + item + "]" }
	cases := []struct {
		name string
		body string
		got  func(*Query) any
		want any
	}{
		{"status list", req(`,"process_status_list":` + many(`1`, 100000)), func(q *Query) any { return q.StatusList }, []int64{1}},
		{"status forms", req(`,"process_status_list":[2,"1",1,"2",0]`), func(q *Query) any { return q.StatusList }, []int64{2, 1, 0}},
		{"cloud ids", req(`,"bk_cloud_ids":[3,"03",1,3]`), func(q *Query) any { return q.CloudIDs }, []int64{3, 1}},
		{"innerips", req(`,"bk_host_innerips":["b","a","b",""]`), func(q *Query) any { return q.InnerIPs }, []string{"b", "a", ""}},
		{"searches after trimming", req(`,"searches":` + many(`" 1"`, 10000)), func(q *Query) any { return q.Searches }, []string{"1"}},
		{"is_auto_list", req(`,"is_auto_list":[false,true,false,true]`), func(q *Query) any { return q.IsAutoList }, []bool{false, true}},
		{"scope lists", req(`,"scope":{"bk_set_ids":[1,1],"bk_module_ids":[2,2],"bk_service_ids":[3,3],"bk_process_names":["p","p"],"bk_process_ids":[4,"4"]}`),
			func(q *Query) any { return *q.Scope },
			Scope{Env: "3", SetIDs: []int64{1}, ModuleIDs: []int64{2}, ServiceIDs: []int64{3}, ProcessNames: []string{"p"}, ProcessIDs: []int64{4}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := mustParse(t, c.body)
			if got := c.got(q); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
	_, err := ParseRequest([]byte(req(`,"searches":["a","a"," "]`)))
	if err == nil || !strings.Contains(err.Error(), "searches[2]") {
		t.Errorf("blank search: %v, want it named searches[2]", err)
	}
	_, err = ParseRequest([]byte(req(`,"process_status_list":[1,1,7]`)))
	if err == nil || !strings.Contains(err.Error(), "process_status_list[2]") {
		t.Errorf("bad status: %v, want it named process_status_list[2]", err)
	}
}

// TestEveryFieldName checks that fields accepts every record key.
func TestEveryFieldName(t *testing.T) {
	var names []string
	var all record.FieldSet
	for f := record.Field(0); ; f++ {
		if _, ok := record.FieldByName(f.String()); !ok {
			break
		}
		names = append(names, `"`+f.String()+`"`)
		all = all.With(f)
	}
	q := mustParse(t, req(`,"fields":[`+strings.Join(names, ",")+`]`))
	if q.Fields != all || all != record.AllFields {
		t.Errorf("fields %b, want %b", q.Fields, record.AllFields)
	}
}

// TestLongValueIsCut checks that a message quotes at most a bounded part
// of a huge offending value.
func TestLongValueIsCut(t *testing.T) {
	long := strings.Repeat("管", 10000)
	for _, body := range []string{
		req(`,"bk_biz_id":"` + long + `"`),
		req(`,"fields":"` + long + `"`),
		req(`,"searches":[["` + long + `"]]`),
		req(`,"bk_biz_id":[` + strings.Repeat(`1,`, 10000) + `1]`),
	} {
		_, err := ParseRequest([]byte(body))
		if err == nil {
			t.Fatal("want an error")
		}
		if n := len(err.Error()); n > 200 {
			t.Errorf("message of %d bytes: %.80s...", n, err.Error())
		}
	}
}
