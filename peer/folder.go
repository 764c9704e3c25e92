package peer

import (
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
)

// folder is one synced folder: its index and chunk store, the state its
// parts share, and the parts themselves, each with one job:
//
//   - guard (folderGuard): may the folder be synced now (marker, pause)?
//   - report (reporter): folder -> tracker: scan, diff, report, record,
//     re-announce.
//   - handler: tracker -> index: registrations, pushed updates stored as
//     wants (through writes).
//   - pull (puller): wants -> disk: rounds, fetch, moves, deletions, flush.
//   - apply (applier): the disk writes of a pull, each checked right before
//     it happens.
//   - plan (planner): where each piece of a version comes from.
//   - keep (versionKeeper): the versions a remote change replaces.
//
// The Daemon owns the goroutines (Run's errgroup) and the device-wide
// things: identity, listener, piece server, fetcher, tracker address.
type folder struct {
	name      string // tracker folder name ("" = the default folder)
	stateDir  string
	statsFile string                 // "" = none
	statsErr  atomic.Pointer[string] // the last failed stats write's error (writeStats)
	// refusedRetry (folderRefusedRetry) is how long a folder the tracker
	// does not share waits before asking again.
	refusedRetry time.Duration

	root  string
	log   *slog.Logger
	idx   *index.Index
	store *chunkstore.Store
	stats *Stats

	state  *syncState
	writes *heldWrites
	rs     *resync
	guard  *folderGuard

	handler handler
	report  *reporter
	pull    *puller
	apply   *applier
	plan    *planner
	keep    *versionKeeper
	ignore  *ignoreRules // what is kept out of sync (ignore.go)

	scanKick      chan struct{} // asks the reporter for a scan
	pullKick      chan struct{} // asks the puller for a round
	firstScanDone chan struct{} // closed by the reporter after its first scan
}

// newFolder wires the parts of the folder cfg.Root, whose index and chunk
// store are open. The tracker client and the fetcher are set by connect
// (Run). The folder guard is off (tests of single parts): New turns it on.
func newFolder(cfg Config, self identity.DeviceID, idx *index.Index, store *chunkstore.Store) *folder {
	f := &folder{
		name: cfg.Folder, stateDir: cfg.StateDir, statsFile: cfg.StatsFile, refusedRetry: folderRefusedRetry,
		root: cfg.Root, log: cfg.Log, idx: idx, store: store, stats: &Stats{},
		state: newSyncState(), rs: newResync(),
		scanKick: make(chan struct{}, 1), pullKick: make(chan struct{}, 1), firstScanDone: make(chan struct{}),
	}
	f.state.folder = cfg.Folder
	partials := filepath.Join(cfg.StateDir, "partial")
	f.state.faults = newWriteFaults(cfg.Log, cfg.Retry, func() int64 {
		// Downloads fill the state's file system, commits the folder's
		// (copied there when they differ): the fuller one.
		a, b := freeBytes(partials), freeBytes(cfg.Root)
		if a < 0 || b >= 0 && b < a {
			return b
		}
		return a
	})
	f.writes = &heldWrites{idx: idx, w: idx, state: f.state, pullKick: f.pullKick}
	f.guard = &folderGuard{
		root: cfg.Root, stateDir: cfg.StateDir, name: cfg.Folder, self: self, idx: idx, log: cfg.Log,
		poll: cfg.FolderPoll, debounce: cfg.Debounce, settle: cfg.Settle, rescan: cfg.Rescan,
		scanKick: f.scanKick, kick: make(chan struct{}, 1),
	}
	f.keep = newVersionKeeper(cfg, f.guard)
	f.plan = &planner{log: cfg.Log, idx: idx, store: store, stats: f.stats, state: f.state, self: self}
	f.apply = &applier{
		root: cfg.Root, log: cfg.Log, idx: idx, store: store, stats: f.stats, state: f.state,
		guard: f.guard, keep: f.keep, scanKick: f.scanKick, afterRename: cfg.Debug.AfterRename,
		umask: processUmask(),
	}
	f.pull = &puller{
		log: cfg.Log, idx: idx, store: store, stats: f.stats, state: f.state, guard: f.guard,
		writes: f.writes, rs: f.rs, apply: f.apply, plan: f.plan,
		parallel: cfg.Parallel, retry: cfg.Retry, partialMaxAge: cfg.PartialMaxAge, poll: cfg.FolderPoll,
		pullKick: f.pullKick, scanKick: f.scanKick, firstScanDone: f.firstScanDone,
	}
	f.report = &reporter{
		root: cfg.Root, log: cfg.Log, idx: idx, store: store, stats: f.stats, state: f.state,
		guard: f.guard, writes: f.writes, rs: f.rs,
		scanKick: f.scanKick, pullKick: f.pullKick, firstScanDone: f.firstScanDone,
	}
	f.handler = handler{
		log: cfg.Log, idx: idx, state: f.state, writes: f.writes, rs: f.rs, guard: f.guard,
		scanKick: f.scanKick, pullKick: f.pullKick,
	}
	f.ignore = newIgnoreRules(cfg)
	f.report.ignore, f.pull.ignore, f.apply.ignore, f.guard.ignore = f.ignore, f.ignore, f.ignore, f.ignore
	return f
}

// connect gives the parts that talk to the network the folder's tracker
// client and the device's fetcher. Call it before their goroutines start.
func (f *folder) connect(client *tracker.Client, fetcher *transfer.Fetcher) {
	f.report.client = client
	f.pull.client = client
	f.plan.fetcher = fetcher
}
