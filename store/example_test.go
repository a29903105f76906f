package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
	"github.com/procq/procq/store"
)

// A data directory starts from a snapshot; every batch applied to it is
// journaled before Apply returns, and a checkpoint folds the journal into a
// new snapshot. Reopening replays whatever the last snapshot lacks.
func ExampleOpen() {
	tmp, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, "start.snap")
	w, err := snapshot.Create(snap)
	if err != nil {
		log.Fatal(err)
	}
	for pid := int64(1); pid <= 3; pid++ {
		r := &record.Record{ProcessID: pid, BizID: 2, SetEnv: "3", ProcessName: "gse_agent", InnerIP: "10.0.0.1"}
		r.Expression = r.DerivedExpression()
		if err := w.Append(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		log.Fatal(err)
	}

	dir := filepath.Join(tmp, "data")
	if err := store.Init(dir, snap); err != nil {
		log.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	res, err := st.Apply(ctx, []store.Op{
		{Delete: 3},
		{Status: &record.StatusUpdate{ProcessID: 1, ProcessStatus: 1, IsAuto: true}},
		{Delete: 42}, // names no process: reported, not an error
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batch", res.Seq, "changed", res.Changed, "missing", res.Missing)
	ck, err := st.Checkpoint(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkpoint covers batch", ck.Seq, "with", ck.Records, "records")
	if err := st.Close(); err != nil {
		log.Fatal(err)
	}

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	r, _ := st.Engine().Record(1)
	fmt.Println("after reopen:", st.Engine().Len(), "records; process 1 status", r.ProcessStatus)
	// Output:
	// batch 1 changed 2 missing [42]
	// checkpoint covers batch 1 with 2 records
	// after reopen: 2 records; process 1 status 1
}
