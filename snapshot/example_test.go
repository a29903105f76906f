package snapshot_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

func ExampleCreate() {
	dir, err := os.MkdirTemp("", "snapshot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "procs.snap")

	// Write: nothing appears at path until Commit succeeds.
	w, err := snapshot.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Abort() // does nothing after a successful Commit
	for i := int64(1); i <= 3; i++ {
		r := record.Record{
			ProcessID:   100 + i,
			SetName:     "大区1",
			ModuleName:  "gse",
			ServiceName: "10.0.0.1_gse_agent",
			ProcessName: "gse_agent",
			InnerIP:     "10.0.0.1",
		}
		r.Expression = r.DerivedExpression()
		if err := w.Append(&r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		log.Fatal(err)
	}

	// Read: keep the records only if Read succeeds.
	var recs []*record.Record
	h, err := snapshot.Read(path, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", h.Version, "records", h.Count)
	for _, r := range recs {
		fmt.Println(r.ProcessID, r.Expression)
	}
	// Output:
	// version 1 records 3
	// 101 大区1.gse.10.0.0.1_gse_agent.gse_agent.101
	// 102 大区1.gse.10.0.0.1_gse_agent.gse_agent.102
	// 103 大区1.gse.10.0.0.1_gse_agent.gse_agent.103
}
