package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test runs this test binary again as a child process that
// writes to a data directory; these variables tell it what to do.
const (
	crashDirEnv   = "PROCQ_STORE_CRASH_DIR"   // the data directory; its presence selects the child
	crashStartEnv = "PROCQ_STORE_CRASH_START" // the index of the first batch to apply
	crashStageEnv = "PROCQ_STORE_CRASH_STAGE" // when set, the child kills itself at this stage
	crashSeed     = 20240611
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	if dir := os.Getenv(lockDirEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// crashBatch returns batch i of the crash test's endless stream.
func crashBatch(g *gen, i int) []Op {
	return g.batch(rand.New(rand.NewPCG(crashSeed, uint64(i))))
}

// crashChild applies the batches of the stream from crashStartEnv on,
// printing "ack I" once batch I is acknowledged and "checkpoint I" before
// the checkpoint it asks for after every fourth batch, until it is killed.
func crashChild(dir string) int {
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	base, err := generate(baseOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	g := newGen(base)
	opts := Options{CheckpointBytes: 24 << 10}
	if stage := os.Getenv(crashStageEnv); stage != "" {
		opts.hook = func(at string) {
			if at == stage {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	s, err := Open(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 3
	}
	ctx := context.Background()
	for i := start; i < start+100000; i++ {
		if _, err := s.Apply(ctx, crashBatch(g, i)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			return 4
		}
		fmt.Printf("ack %d\n", i)
		if i%4 == 3 {
			fmt.Printf("checkpoint %d\n", i)
			if _, err := s.Checkpoint(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "crash child:", err)
				return 5
			}
		}
	}
	return 0
}

// crashPlan says when one round of the crash test kills the child.
type crashPlan struct {
	acks       int    // kill once this many batches are acknowledged
	checkpoint bool   // kill as soon as a checkpoint starts
	stage      string // the child kills itself here
}

func (p crashPlan) String() string {
	switch {
	case p.stage != "":
		return "self-kill at " + p.stage
	case p.checkpoint:
		return "kill at a checkpoint's start"
	}
	return fmt.Sprintf("kill after %d acks", p.acks)
}

// TestCrashRecovery kills a child process writing to a data directory
// with SIGKILL, at seeded random points and at chosen stages of writes
// and checkpoints, again and again. After each kill the directory must
// open, hold every acknowledged batch, and hold the batch in flight
// either whole or not at all.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	g := newGen(base)
	rng := rand.New(rand.NewPCG(crashSeed, 1))

	var plans []crashPlan
	for _, st := range []string{"batch-written", "checkpoint-snapshot", "checkpoint-trimmed",
		"shrink-written", "shrink-renamed", "checkpoint-before-remove"} {
		plans = append(plans, crashPlan{stage: st})
	}
	for range 3 {
		plans = append(plans, crashPlan{checkpoint: true})
	}
	for range 5 {
		plans = append(plans, crashPlan{acks: 1 + rng.IntN(7)})
	}
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })

	m := newModel(base)
	next := 0 // the first batch not in m
	for round, plan := range plans {
		acked := runCrashChild(t, dir, next, plan)
		// Batches up to acked were acknowledged and must be there; the
		// one after may be, whole.
		for ; next <= acked; next++ {
			m.apply(crashBatch(g, next))
		}
		inFlight := m.clone()
		inFlight.apply(crashBatch(g, next))

		s, err := Open(dir, Options{CheckpointBytes: -1})
		if err != nil {
			t.Fatalf("round %d (%v): reopen after the kill: %v", round, plan, err)
		}
		switch {
		case sameRecords(s.Engine(), inFlight) == "":
			m = inFlight
			next++
		case sameRecords(s.Engine(), m) != "":
			t.Fatalf("round %d (%v): after %d acknowledged batches the data is neither that nor one batch more: %s",
				round, plan, acked+1, sameRecords(s.Engine(), m))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := mustOpen(t, dir, Options{})
	defer s.Close()
	snaps, leftovers, err := dirFiles(dir)
	if err != nil || len(snaps) != 1 || len(leftovers) != 0 {
		t.Fatalf("after recovery the data dir holds snapshots %v and leftovers %v (%v)", snaps, leftovers, err)
	}
	t.Logf("%d kills, %d batches", len(plans), next)
}

// runCrashChild runs the child from batch start until plan kills it, and
// returns the last batch it acknowledged (start-1 when none).
func runCrashChild(t *testing.T, dir string, start int, plan crashPlan) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(start), crashStageEnv+"="+plan.stage)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	acked, acks := start-1, 0
	note := func(line string) {
		if n, ok := strings.CutPrefix(line, "ack "); ok {
			i, err := strconv.Atoi(n)
			if err != nil || i != acked+1 {
				t.Errorf("child printed %q after acknowledging %d", line, acked)
			}
			acked = i
			acks++
		}
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	killed := false
	for !killed {
		select {
		case line, ok := <-lines:
			if !ok {
				// The child ended by itself: only a stage plan does that.
				killed = true
				continue
			}
			note(line)
			if (plan.acks > 0 && acks >= plan.acks) || (plan.checkpoint && strings.HasPrefix(line, "checkpoint ")) {
				cmd.Process.Kill()
				killed = true
			}
		case <-deadline.C:
			cmd.Process.Kill()
			t.Fatalf("%v: the child did not get there in 30s; stderr: %s", plan, stderr.String())
		}
	}
	for line := range lines { // what it printed before it died
		note(line)
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%v: the child was not killed: %v; stderr: %s", plan, err, stderr.String())
	}
	return acked
}
