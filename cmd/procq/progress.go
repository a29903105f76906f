package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// meter is the one progress display of procq's long commands (import,
// export, gen, bench, replay, loadtest). On a terminal each stage draws
// a bar with its rate and time left (github.com/schollz/progressbar);
// on anything else, such as a pipe or a log file, each stage prints one
// line once it has ended, with the time it took, so that a log shows
// where the time went and a failure still ends with one error line.
type meter struct {
	cmd        string
	w          io.Writer
	tty        bool
	start      time.Time
	stage      string
	stageStart time.Time
	bar        *progressbar.ProgressBar
}

// newMeter returns a meter on stderr for the command cmd.
func newMeter(cmd string) *meter {
	return &meter{cmd: cmd, w: os.Stderr, tty: isTerminal(os.Stderr), start: time.Now()}
}

// show reports done of total units of stage; unit is "records",
// "requests", "bytes" or the like, and total -1 means unknown. A new
// stage ends the previous one.
func (m *meter) show(stage, unit string, done, total int64) {
	if m == nil {
		return
	}
	if stage != m.stage {
		m.end()
		m.stage, m.stageStart = stage, time.Now()
		if !m.tty {
			return
		}
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(m.w),
			progressbar.OptionSetDescription(m.cmd + ": " + stage),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowElapsedTimeOnFinish(),
		}
		if total >= 0 {
			opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true))
			if unit == "bytes" {
				opts = append(opts, progressbar.OptionShowBytes(true))
			} else {
				opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
			}
		}
		m.bar = progressbar.NewOptions64(total, opts...)
	}
	if m.bar != nil {
		m.bar.Set64(done) //nolint:errcheck // a display only
	}
}

// end ends the current stage, if any: its bar, or its line.
func (m *meter) end() {
	switch {
	case m == nil || m.stage == "":
		return
	case m.bar != nil:
		m.bar.Finish() //nolint:errcheck // a display only
		fmt.Fprintln(m.w)
		m.bar = nil
	case !m.tty:
		fmt.Fprintf(m.w, "%s: %s: %s\n", m.cmd, m.stage, time.Since(m.stageStart).Round(time.Millisecond))
	}
	m.stage = ""
}

// done ends the display and prints the command's summary line: what was
// done (format and args) and the time since the meter started.
func (m *meter) done(format string, args ...any) {
	m.end()
	fmt.Fprintf(m.w, "%s: %s in %s\n", m.cmd, fmt.Sprintf(format, args...), time.Since(m.start).Round(time.Millisecond))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
