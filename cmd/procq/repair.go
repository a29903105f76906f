package main

import (
	"fmt"
	"io"
	"os"

	"github.com/procq/procq/store"
)

// runRepair salvages the valid batches of a damaged journal (see
// store.Repair) and says what it kept and dropped, on stderr. Usage:
// repair --data-dir DIR.
func runRepair(args []string) error {
	return repair(args, os.Stderr)
}

func repair(args []string, w io.Writer) error {
	fs := newFlags("repair")
	dir := fs.String("data-dir", "", "data directory (made by procq init)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("data-dir", *dir); err != nil {
		return err
	}
	rep, err := store.Repair(*dir)
	if err != nil {
		return err
	}
	if rep.KeptAside == "" {
		fmt.Fprintf(w, "repair: %s is sound (%d batches); nothing changed\n", rep.Journal, len(rep.Kept))
		return nil
	}
	fmt.Fprintf(w, "repair: kept %d batches of %s; the damaged file is kept as %s\n", len(rep.Kept), rep.Journal, rep.KeptAside)
	for _, d := range rep.Dropped {
		batch := "batch unknown"
		if d.Seq > 0 {
			batch = fmt.Sprintf("batch %d", d.Seq)
		}
		fmt.Fprintf(w, "repair: dropped %d bytes at offset %d (%s): %s\n", d.Bytes, d.Offset, batch, d.Reason)
	}
	return nil
}
