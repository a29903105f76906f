package benchchart

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Layout of the SVG, in pixels.
const (
	width     = 900
	labelW    = 200 // query names
	plotRight = 870
	top       = 70 // title and legend
	rowH      = 18
	bottom    = 40 // axis labels
)

// colors of the series, in Engines order (ColorBrewer Dark2).
var colors = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"}

// WriteSVG writes the chart as an SVG document to w.
func (c Chart) WriteSVG(w io.Writer) error {
	lo, hi := c.decades()
	height := top + rowH*len(c.Queries) + bottom
	x := func(d time.Duration) float64 {
		return labelW + (math.Log10(d.Seconds())-float64(lo))/float64(hi-lo)*(plotRight-labelW)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", 10, escape(c.Title))
	for i, e := range c.Engines {
		lx := labelW + i*110
		fmt.Fprintf(&b, `<circle cx="%d" cy="42" r="5" fill="%s"/><text x="%d" y="46">%s</text>`+"\n", lx, color(i), lx+10, escape(e))
	}
	plotBottom := top + rowH*len(c.Queries)
	for p := lo; p <= hi; p++ {
		gx := x(time.Duration(math.Pow(10, float64(p)) * float64(time.Second)))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", gx, top-6, gx, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx, plotBottom+16, decadeLabel(p))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">median latency per query (log scale; further right is slower)</text>`+"\n", (labelW+plotRight)/2, plotBottom+34)
	for q, name := range c.Queries {
		y := top + rowH*q + rowH/2
		if q%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f6f6f6"/>`+"\n", y-rowH/2, plotRight, rowH)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+4, escape(name))
		c.row(&b, q, y, x)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// row draws query q's markers at height y, joined by a line from the
// fastest to the slowest.
func (c Chart) row(b *strings.Builder, q, y int, x func(time.Duration) float64) {
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, d := range c.Median[q] {
		if d > 0 {
			minX, maxX = math.Min(minX, x(d)), math.Max(maxX, x(d))
		}
	}
	if minX < maxX {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb"/>`+"\n", minX, y, maxX, y)
	}
	for e, d := range c.Median[q] {
		if d > 0 {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%d" r="4.5" fill="%s" fill-opacity="0.9"><title>%s on %s: %s</title></circle>`+"\n",
				x(d), y, color(e), escape(c.Queries[q]), escape(c.Engines[e]), d)
		}
	}
}

// decades returns the powers of ten (in seconds) that bound every
// measured median.
func (c Chart) decades() (lo, hi int) {
	lo, hi = math.MaxInt, math.MinInt
	for _, row := range c.Median {
		for _, d := range row {
			if d > 0 {
				l := math.Log10(d.Seconds())
				lo, hi = min(lo, int(math.Floor(l))), max(hi, int(math.Ceil(l)))
			}
		}
	}
	if lo > hi {
		return -6, 0
	}
	if lo == hi {
		hi++
	}
	return lo, hi
}

// decadeLabel names 10^p seconds: 1 µs, 10 ms, 1 s, 100 s.
func decadeLabel(p int) string {
	units := []string{"ns", "µs", "ms", "s"}
	i := min(max((p+9)/3, 0), 3)
	v := math.Pow(10, float64(p-(i*3-9)))
	return fmt.Sprintf("%g %s", v, units[i])
}

func color(i int) string { return colors[i%len(colors)] }

// escape makes s safe as SVG text.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
