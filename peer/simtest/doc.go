// Package simtest holds a randomized, seeded simulation of DartSync's data
// safety (its tests only): an in-process tracker and three in-process peers
// over real QUIC on loopback, each syncing a real folder in a temporary
// directory, driven by random operations, then checked once everything has
// settled. It uses only exported APIs (peer.New, tracker.New,
// peer/versions), so it survives changes inside package peer.
//
// Operations (weighted, drawn from a seeded generator): write a new file;
// overwrite one with the same size or another size; append; delete; rename
// within a directory and across directories; write deleted content again at
// its path (re-created content); create and remove empty directories; write
// one path on two peers at once (a conflict); stop a peer and start it again
// (in process a stop cancels the daemon's context: files written while it
// is stopped are offline edits; a SIGKILL is not possible in process, and
// the end-to-end tests cover it); stop the tracker and start it again
// cleanly, from a copy of its state taken at an earlier stop (a restored
// backup), or with its state deleted (a new identity and token: every peer
// is joined again with the new token, as a user would); and pauses, so that
// some versions live long enough to sync and others do not.
//
// Terms:
//
//   - Version: content the simulation wrote at a path on one peer (its
//     author), from the moment the write ended until the author's next local
//     change of that path (a write, delete or rename of it), if any.
//   - Live: the tracker is up and the peer is running and has completed its
//     first scan since it (or the tracker) last started.
//   - Local replacement: an overwrite, append or delete of a version's
//     content by the simulation on some peer (a rename is not one: it
//     carries the content to another path, which the check follows).
//   - Could sync: a version could sync unless its author replaced it
//     locally and no peer that never replaced it locally could have
//     fetched it: there was no contiguous stretch of SyncWindow, between
//     the write and the first local replacement of it on any peer, during
//     which the tracker was up and the author and such a peer were live.
//     In SyncWindow the author scans and reports the version and the other
//     peer fetches it, and that peer's copy is then replaced only by remote
//     changes, which keep it. So a version that could not sync is the case
//     the rule exempts: its own author replaced it before it could sync; the
//     rule is widened to "every device that got it replaced it by a local
//     edit" because a peer's own local edits keep nothing (by design), so a
//     version the author and every peer that fetched it all edited away
//     is gone without any fault of the sync.
//   - Quiescence: every peer running, the tracker up, no pending wants, all
//     folders identical (files, their content, and directories; the state
//     directory .dartsync excluded), and nothing (trees, counters) changed
//     for Settle.
//
// The invariants checked after quiescence:
//
//  1. All peers' folders are identical.
//  2. Every version that could sync is found by its content on some peer:
//     as the current content of its path, or of a path it was renamed to
//     later (by any peer), or as a conflict copy of one of those paths
//     (NAME.sync-conflict-...), or kept in DIR/.dartsync/versions under one
//     of those paths.
//  3. Newest wins: a path whose last operation (on any peer) came after
//     every earlier operation on it by another peer had had SyncWindow to
//     reach the last operation's author (both live, the tracker up) ends
//     with exactly what that last operation left (its content, or absent).
//     Tracker restores and restarts in between must not change that.
//
// Running it: `go test -race -run TestSimulation ./peer/simtest/` runs a
// few seeds (CI). Environment: DARTSYNC_SIM_SEEDS (how many seeds),
// DARTSYNC_SIM_SEED (the first seed; the seeds are consecutive),
// DARTSYNC_SIM_OPS (operations per seed), DARTSYNC_SIM_WINDOW (SyncWindow,
// a Go duration), DARTSYNC_SIM_QUIET (how long quiescence may take, 3m by
// default), DARTSYNC_SIM_KNOWN (a comma-separated list of problem kinds
// reported without failing, empty by default, for replaying a known issue:
// "stuck-wants" (wants for a conflict copy no peer has; fixed, see
// TestConflictCopyNobodyHas), "recreated-deletion"
// (TestDeletionOfRecreatedContentSurvivesRestore)), DARTSYNC_SIM_LOG (a directory: each failing seed's daemon
// and tracker logs are written there at debug level). A failure prints the
// seed and the operation log; the same seed draws the same operations
// (their timing against the daemons is not deterministic).
package simtest
