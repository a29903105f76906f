package benchchart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

const report = `# Benchmarks

| query | count | procq | scan | sqlite |
|---|---:|---:|---:|---:|
| env_only | 623,289 | 4.18 µs | 277 ms (66,382×) | 1.97 s (472,258×) |
| ip_list | 394 | 51.0 µs | — | 1,480 ns (29×) |

| query | count | procq | scan | sqlite |
| later | 1 | 1 s | 1 s | 1 s |
`

func TestParseMarkdown(t *testing.T) {
	c, err := ParseMarkdown(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]time.Duration{
		{4180 * time.Nanosecond, 277 * time.Millisecond, 1970 * time.Millisecond},
		{51 * time.Microsecond, 0, 1480 * time.Nanosecond},
	}
	if strings.Join(c.Engines, ",") != "procq,scan,sqlite" || strings.Join(c.Queries, ",") != "env_only,ip_list" {
		t.Fatalf("engines %v, queries %v", c.Engines, c.Queries)
	}
	for q := range want {
		for e := range want[q] {
			if d := c.Median[q][e] - want[q][e]; d < -time.Nanosecond || d > time.Nanosecond {
				t.Errorf("Median[%d][%d] = %v, want %v", q, e, c.Median[q][e], want[q][e])
			}
		}
	}
	for _, bad := range []string{"no table here", "| query | count | procq | scan |\n|---|---|---|---|\n| q | 1 | 3 parsecs | 1 s |\n"} {
		if _, err := ParseMarkdown(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		} else if bad == "no table here" && !errors.Is(err, ErrNoTable) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestWriteSVG: the SVG is well-formed XML with one marker per measured
// cell, the same bytes every time.
func TestWriteSVG(t *testing.T) {
	c, err := ParseMarkdown(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	c.Title = "a <title> & more"
	var a, b bytes.Buffer
	if err := c.WriteSVG(&a); err != nil {
		t.Fatal(err)
	}
	c.WriteSVG(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes differ")
	}
	d := xml.NewDecoder(bytes.NewReader(a.Bytes()))
	circles := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, a.String())
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
			circles++
		}
	}
	if want := len(c.Engines) + 5; circles != want { // legend + measured cells
		t.Errorf("%d circles, want %d", circles, want)
	}
	for _, l := range []string{"1 µs", "1 ms", "1 s", "10 s"} {
		if !strings.Contains(a.String(), ">"+l+"<") {
			t.Errorf("no axis label %q", l)
		}
	}
}

func TestDecadeLabel(t *testing.T) {
	for p, want := range map[int]string{-9: "1 ns", -6: "1 µs", -5: "10 µs", -4: "100 µs", -3: "1 ms", 0: "1 s", 2: "100 s"} {
		if got := decadeLabel(p); got != want {
			t.Errorf("decadeLabel(%d) = %q, want %q", p, got, want)
		}
	}
}
