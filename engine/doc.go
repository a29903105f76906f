// Package engine answers GSEKit process_status requests from records held
// in memory: it loads a snapshot, builds the indexes, and turns each
// validated request into bitmap algebra over them, then orders and pages
// the result. An Engine is immutable once built, so any number of
// goroutines may query it at once.
//
// Load (or New) builds an Engine; Engine.Query answers a parsed request
// and Engine.Do a raw request body, both with a context.Context that
// cancels the work. WithStatus and WithChanges return new engines with
// changes applied: an engine is an immutable base (the indexes) plus a
// small delta (records upserted since, tombstones over base rows), so a
// write costs what it changes; Merge folds the delta into a new base (a
// full build, for the caller to run off the request path; see package
// store), and Delta and NeedsMerge say when one is due. A Live holds the engine being served so that a reload
// or a write swaps in a new one atomically: requests already running
// finish on the engine they started with.
//
// The package speaks no HTTP: package gsekit is the GSEKit HTTP surface
// of an engine (the process_status handler and its path), and package
// server the service around it.
//
// # Caveats
//
// What the package does to the process, which a caller must know:
//
//   - GC percent: while Load runs, the garbage collector's target is
//     raised to 400 (GOGC=400; see loadGC), process-wide, unless it is
//     already higher or off. It is restored when the last concurrent load
//     ends, so a program that sets the GC percent itself during a load
//     sees its setting overwritten then.
//   - Background work: New (and Load of a version 1 snapshot) return
//     before all indexes are done: the suffix orders of the name
//     dictionaries, needed only by suffix globs such as "*_agent", are
//     sorted by goroutines started in the background. A query that needs
//     one waits for it; the goroutines hold the engine's memory until
//     they finish. An index snapshot holds them: its Load has none.
//   - Shared records: New keeps the records it is given and reorders the
//     slice; the caller must not change them afterwards. The records
//     Engine.Records and Engine.Record hand out belong to the engine, and
//     the engines WithStatus and WithChanges derive share every record
//     they do not change with their origin: none may be modified.
package engine
