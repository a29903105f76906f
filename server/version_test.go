package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procq/procq/gsekit"
)

// versioned is one answer of the query endpoint with its version headers.
type versioned struct {
	status  int
	version string
	etag    string
	body    string
}

// postTagged posts body to the query endpoint, with If-None-Match inm
// when not "".
func postTagged(t *testing.T, url, body, inm string) versioned {
	t.Helper()
	req, err := http.NewRequest("POST", url+gsekit.Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return versioned{resp.StatusCode, resp.Header.Get(gsekit.VersionHeader), resp.Header.Get("ETag"), string(b)}
}

// healthVersion is the data_version /healthz reports.
func healthVersion(t *testing.T, url string) uint64 {
	t.Helper()
	a := do(t, "GET", url+"/healthz", "")
	var h struct {
		DataVersion uint64 `json:"data_version"`
	}
	if err := json.Unmarshal(a.body, &h); err != nil || a.status != 200 {
		t.Fatalf("healthz: %d %s %v", a.status, a.body, err)
	}
	return h.DataVersion
}

func TestETagAndNotModified(t *testing.T) {
	const token = "s3cret"
	_, srv := newDataDirServer(t, Config{AdminToken: token, MaxAdminBodyBytes: 4096}, 300)
	url := srv.URL
	first := postTagged(t, url, countAll, "")
	if first.status != 200 || first.etag == "" || first.version == "" {
		t.Fatalf("first answer: %+v", first)
	}
	if v := strconv.FormatUint(healthVersion(t, url), 10); v != first.version {
		t.Errorf("healthz data_version %s, header %s", v, first.version)
	}
	for _, tc := range []struct {
		name, body, inm string
		status          int
	}{
		{"same tag", countAll, first.etag, 304},
		{"weak and listed", countAll, `"x", W/` + first.etag, 304},
		{"other tag", countAll, `"v1-0"`, 200},
		{"other body", strings.Replace(countAll, `"page":1`, `"page":2`, 1), first.etag, 200},
		{"invalid body", `{"bk_biz_id":2}`, "*", 400},
	} {
		a := postTagged(t, url, tc.body, tc.inm)
		if a.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, a.status, tc.status)
		}
		if a.status == 304 && (a.body != "" || a.etag != first.etag) {
			t.Errorf("%s: 304 with body %q, etag %s", tc.name, a.body, a.etag)
		}
		if a.status == 200 && tc.body == countAll && a.body != first.body {
			t.Errorf("%s: the answer changed", tc.name)
		}
	}

	// A status batch changes the data: the version grows, the tag no
	// longer matches. So does a checkpoint, though its records are the
	// same.
	// The first process is set to status 1 first, so the batch to 2
	// changes it.
	var env struct {
		Data struct {
			List []struct {
				ID int64 `json:"bk_process_id"`
			} `json:"list"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(first.body), &env); err != nil || len(env.Data.List) == 0 {
		t.Fatalf("first answer: %v %s", err, first.body)
	}
	pid := strconv.FormatInt(env.Data.List[0].ID, 10)
	batch := func(status int, mustChange bool) {
		body := `{"updates":[{"bk_process_id":` + pid + `,"process_status":` + strconv.Itoa(status) + `,"is_auto":true}]}`
		if a := doAdmin(t, "POST", url+"/admin/status", token, body); a.status != 200 || mustChange && strings.Contains(string(a.body), `"changed":0`) {
			t.Fatalf("status batch: %d %s", a.status, a.body)
		}
	}
	batch(1, false)
	first = postTagged(t, url, countAll, "")
	v0 := healthVersion(t, url)
	batch(2, true)
	v1 := healthVersion(t, url)
	if v1 <= v0 {
		t.Errorf("data_version %d after a batch, %d before", v1, v0)
	}
	a := postTagged(t, url, countAll, first.etag)
	if a.status != 200 || a.etag == first.etag || a.version != strconv.FormatUint(v1, 10) {
		t.Errorf("after a batch: %d etag %s version %s", a.status, a.etag, a.version)
	}
	if c := doAdmin(t, "POST", url+"/admin/checkpoint", token, ""); c.status != 200 {
		t.Fatalf("checkpoint: %d %s", c.status, c.body)
	}
	if v := healthVersion(t, url); v != v1+1 {
		t.Errorf("data_version %d after a checkpoint, %d before", v, v1)
	}
	if b := postTagged(t, url, countAll, a.etag); b.status != 200 || b.etag == a.etag || b.body != a.body {
		t.Errorf("after a checkpoint: %d etag %s (was %s)", b.status, b.etag, a.etag)
	}
}

func TestVersionGrowsAcrossReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, path, 200, 1)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	srv := ts.URL
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	first := postTagged(t, srv, countAll, "")
	prev := healthVersion(t, srv)
	for i := range 3 {
		if _, err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		v := healthVersion(t, srv)
		if v != prev+1 {
			t.Errorf("reload %d: data_version %d, want %d", i, v, prev+1)
		}
		prev = v
	}
	if a := postTagged(t, srv, countAll, first.etag); a.status != 200 || a.body != first.body {
		t.Errorf("after reloads of the same file: %d, body changed %v", a.status, a.body != first.body)
	}
}
