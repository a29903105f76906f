package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// WriteAnswers writes answers as JSON Lines, one Answer per line.
func WriteAnswers(w io.Writer, answers []Answer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, a := range answers {
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("replay: write answers: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("replay: write answers: %w", err)
	}
	return nil
}

// WriteAnswersFile writes answers to path atomically: a temporary file in
// the same directory is renamed over path only once complete.
func WriteAnswersFile(path string, answers []Answer) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := WriteAnswers(f, answers); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("replay: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("replay: %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// ReadAnswers reads a results file written by WriteAnswers. name is used
// in errors, which name the line.
func ReadAnswers(r io.Reader, name string) ([]Answer, error) {
	br := bufio.NewReader(r)
	var out []Answer
	seen := map[int]int{}
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var a Answer
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if jerr := dec.Decode(&a); jerr != nil {
				return nil, fmt.Errorf("%s:%d: not a replay result: %w", name, line, jerr)
			}
			if a.Line < 1 || a.Digest == "" || a.Request == "" {
				return nil, fmt.Errorf("%s:%d: not a replay result: missing line, request or digest", name, line)
			}
			if prev, dup := seen[a.Line]; dup {
				return nil, fmt.Errorf("%s:%d: request line %d is already answered on line %d", name, line, a.Line, prev)
			}
			seen[a.Line] = line
			out = append(out, a)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

// Difference is one request answered differently by two runs.
type Difference struct {
	// Line is the request's line number in the log.
	Line int
	// Old and New are the two answers.
	Old, New Answer
}

// String describes the difference in one line.
func (d Difference) String() string {
	switch {
	case d.Old.Request != d.New.Request:
		return fmt.Sprintf("line %d: the request itself differs: the runs replayed different logs", d.Line)
	case d.Old.Code != d.New.Code:
		return fmt.Sprintf("line %d: code %d, now %d", d.Line, d.Old.Code, d.New.Code)
	case d.Old.Count != d.New.Count:
		return fmt.Sprintf("line %d: count %d, now %d", d.Line, d.Old.Count, d.New.Count)
	}
	return fmt.Sprintf("line %d: same code and count, different response (digest %.12s, now %.12s)", d.Line, d.Old.Digest, d.New.Digest)
}

// Comparison is the outcome of Compare.
type Comparison struct {
	// Compared is the number of requests both runs answered.
	Compared int
	// Differences are the compared requests whose answers differ, by line.
	Differences []Difference
	// OnlyOld and OnlyNew are lines only one run answered (a run cut
	// short by its duration, or a different log).
	OnlyOld, OnlyNew []int
}

// Compare matches two runs' answers by line and reports every request
// whose answer (or request) differs.
func Compare(old, cur []Answer) *Comparison {
	byLine := make(map[int]Answer, len(old))
	for _, a := range old {
		byLine[a.Line] = a
	}
	c := &Comparison{}
	for _, n := range cur {
		o, ok := byLine[n.Line]
		if !ok {
			c.OnlyNew = append(c.OnlyNew, n.Line)
			continue
		}
		delete(byLine, n.Line)
		c.Compared++
		if o.Request != n.Request || o.Digest != n.Digest || o.Code != n.Code {
			c.Differences = append(c.Differences, Difference{Line: n.Line, Old: o, New: n})
		}
	}
	for line := range byLine {
		c.OnlyOld = append(c.OnlyOld, line)
	}
	slices.Sort(c.OnlyOld)
	slices.Sort(c.OnlyNew)
	slices.SortFunc(c.Differences, func(a, b Difference) int { return a.Line - b.Line })
	return c
}
