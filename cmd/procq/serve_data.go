package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/procq/procq/server"
	"github.com/procq/procq/store"
)

// adminTokenEnv is the environment variable that holds the admin token
// when --admin-token is not given.
const adminTokenEnv = "PROCQ_ADMIN_TOKEN"

// serveDataUsage is the part of serve's usage about data directories.
const serveDataUsage = "[--sync always|second|never] [--checkpoint-bytes N]"

// dataDirFlags are serve's flags for serving a data directory.
type dataDirFlags struct {
	dir, token, sync *string
	checkpointBytes  *int64
	fleet            *fleetFlags
}

func addDataDirFlags(fs *flag.FlagSet) *dataDirFlags {
	return &dataDirFlags{
		dir:   fs.String("data-dir", "", "data directory `DIR` to serve and change (made by procq init); instead of --snapshot"),
		token: fs.String("admin-token", "", "bearer `TOKEN` every /admin/ endpoint requires (default: $"+adminTokenEnv+"); without one they are served on loopback only"),
		sync:  syncFlag(fs),
		checkpointBytes: fs.Int64("checkpoint-bytes", store.DefaultCheckpointBytes,
			"journal size in `BYTES` that starts a checkpoint with --data-dir; negative: never automatically"),
		fleet: addFleetFlags(fs),
	}
}

// configure puts the flags into cfg, which serves snapshot (the --snapshot
// flag) otherwise.
func (f *dataDirFlags) configure(cfg *server.Config, snapshot string) error {
	cfg.AdminToken = *f.token
	if cfg.AdminToken == "" {
		cfg.AdminToken = os.Getenv(adminTokenEnv)
	}
	if err := f.fleet.configure(cfg, *f.dir); err != nil {
		return err
	}
	if *f.dir == "" {
		return nil
	}
	if snapshot != "" {
		return errors.New("--snapshot and --data-dir exclude each other: a data directory holds its own snapshot")
	}
	if _, err := os.Stat(*f.dir); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	policy, err := store.ParseSyncPolicy(*f.sync)
	if err != nil {
		return fmt.Errorf("--sync: %w", err)
	}
	if *f.checkpointBytes == 0 {
		return errors.New("--checkpoint-bytes must not be 0 (negative turns automatic checkpoints off)")
	}
	cfg.DataDir = *f.dir
	cfg.Store = store.Options{Sync: policy, CheckpointBytes: *f.checkpointBytes}
	return nil
}

// printAdminBanner tells on stderr how to change the data directory.
func printAdminBanner(addr net.Addr, cfg server.Config) {
	if cfg.DataDir == "" {
		return
	}
	base := baseURL(addr)
	auth, note := "", "open (no --admin-token; loopback only)"
	if cfg.AdminToken != "" {
		auth, note = ` -H "Authorization: Bearer $`+adminTokenEnv+`"`, "bearer token required"
	}
	fmt.Fprintf(os.Stderr, `  changes (%s, sync %s):
    curl -s%s %s/admin/status -d '{"updates":[{"bk_process_id":1,"process_status":1,"is_auto":true}]}'
    curl -s%s %s/admin/apply --data-binary @changes.jsonl
    curl -s%s -X POST %s/admin/checkpoint
`, note, cfg.Store.Sync, auth, base, auth, base, auth, base)
}
