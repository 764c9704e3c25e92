package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/peer/versions"
	"github.com/dartsync/dartsync/peer/watch"
	"github.com/dartsync/dartsync/tracker"
)

// ErrNoTracker: no tracker address was given and none is remembered.
var ErrNoTracker = errors.New("no tracker: give --tracker and --token for the first join")

// Daemon is one running peer. Create it with New, run it with Run.
type Daemon struct {
	cfg   Config
	log   *slog.Logger
	self  identity.DeviceID
	idx   *index.Index
	store *chunkstore.Store
	stats Stats

	trackerAddr string
	trackerID   identity.DeviceID

	client  *tracker.Client   // set in Run
	fetcher *transfer.Fetcher // set in Run

	mu        sync.RWMutex // guards the fields below; never held across I/O
	peers     map[identity.DeviceID]string
	pieceSize int64
	rejected  map[string]rejection // local versions the tracker refused: not re-reported (rejected.go)

	// applying holds the paths whose apply (commit or delete, then index)
	// is under way; the local diff leaves them alone so it never reports a
	// half-applied remote version as a local change. Guarded by mu.
	applying map[string]bool
	// reporting holds the versions sent to the tracker whose outcome is
	// not recorded yet, so their echo in Updates is not taken for work.
	reporting map[string]manifest.ID
	// unannounced holds applied versions whose ownership the tracker has
	// not acknowledged yet (it was unreachable); the next flush sends them.
	unannounced []manifest.Manifest
	// held is what the index could not store yet (indexwrite.go).
	held heldWrites

	// badNames holds the local names the scan skipped because
	// manifest.ValidatePath refuses them, already warned about (names.go).
	// Only the scan loop uses it.
	badNames map[string]bool
	// clashWarned holds the name clashes already logged (case_twin.go).
	clashWarned map[[2]string]bool

	rs resync // re-announce state (epoch.go); has its own lock

	scanKick      chan struct{}
	pullKick      chan struct{}
	firstScanDone chan struct{}

	folder     folderState   // active or paused (folder_state.go)
	folderKick chan struct{} // asks the folder loop to check the marker

	versions  *versions.Store // nil when nothing is kept (peer/versions.go)
	pruneKick chan struct{}
}

// New opens the index and chunk store of cfg and resolves the tracker to
// join (cfg's, else the remembered one). A folder seen for the first time is
// created if missing and marked; one whose marker is missing while its
// index holds files starts paused (see doc.go, "Folder marker"). Without an
// index and a tracker to join, New fails with ErrNoTracker and creates
// nothing.
func New(cfg Config) (*Daemon, error) {
	cfg.defaults()
	if cfg.Identity == nil {
		return nil, errors.New("peer: no identity")
	}
	had, err := index.Exists(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	if !had && (cfg.TrackerAddr == "" || cfg.TrackerID.IsZero()) {
		return nil, ErrNoTracker
	}
	idx, err := index.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	store, err := chunkstore.Open(cfg.Root, cfg.StateDir, cfg.Log)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("peer: %w", err)
	}
	d := &Daemon{
		cfg: cfg, log: cfg.Log, self: cfg.Identity.ID, idx: idx, store: store,
		trackerAddr: cfg.TrackerAddr, trackerID: cfg.TrackerID,
		peers:         make(map[identity.DeviceID]string),
		rejected:      make(map[string]rejection),
		applying:      make(map[string]bool),
		reporting:     make(map[string]manifest.ID),
		rs:            newResync(),
		scanKick:      make(chan struct{}, 1),
		pullKick:      make(chan struct{}, 1),
		firstScanDone: make(chan struct{}),
		folderKick:    make(chan struct{}, 1),
		versions:      newVersions(cfg),
		pruneKick:     make(chan struct{}, 1),
	}
	mem, ok, err := idx.Membership()
	if err != nil {
		d.closeStores()
		return nil, err
	}
	if ok {
		if d.trackerAddr == "" {
			d.trackerAddr = mem.Addr
		}
		if d.trackerID.IsZero() && (cfg.TrackerAddr == "" || cfg.TrackerAddr == mem.Addr) {
			d.trackerID = identity.DeviceID(mem.Tracker)
		}
		d.pieceSize = mem.PieceSize
	}
	if d.trackerAddr == "" || d.trackerID.IsZero() {
		d.closeStores()
		return nil, ErrNoTracker
	}
	d.folder.guarded = true
	d.setFolderState(d.folderProblem(true))
	return d, nil
}

func (d *Daemon) closeStores() {
	if err := d.idx.Flush(); err != nil {
		d.log.Warn("index flush on close", "err", err)
	}
	d.store.Close()
	d.idx.Close()
}

// Stats returns the current counters.
func (d *Daemon) Stats() StatsSnapshot {
	s := d.stats.Snapshot()
	s.Seq = d.idx.Seq()
	s.Paused, s.PausedReason = d.folder.get()
	return s
}

// ID returns this device's ID.
func (d *Daemon) ID() identity.DeviceID { return d.self }

// Run serves until ctx is cancelled (then it returns nil) or a fatal error
// (a wrong token, a port in use). It closes the index and chunk store before
// returning; a Daemon runs once.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.closeStores()
	l, err := transport.Listen(d.cfg.ListenAddr, d.cfg.Identity, transport.Options{})
	if err != nil {
		return fmt.Errorf("peer: listen %s: %w", d.cfg.ListenAddr, err)
	}
	defer l.Close()
	port := 0
	if ua, ok := l.Addr().(*net.UDPAddr); ok {
		port = ua.Port
	}
	// Recovery only records versions found on disk: a paused folder's
	// absent files are never taken for anything.
	if n, err := d.recoverApplied(ctx); err != nil {
		d.log.Warn("record versions applied before the last stop", "recorded", n, "err", err)
	}
	d.fetcher = transfer.NewFetcher(d.cfg.Identity, d.cfg.Fetch, d.log)
	defer d.fetcher.Close()
	server := transfer.NewServer(countingSource{src: d.store, n: &d.stats.BytesSent}, d.isMember, d.log,
		transfer.WithUploadLimit(d.cfg.UploadLimit))
	d.client = tracker.NewClient(tracker.ClientConfig{
		Addr: d.trackerAddr, Identity: d.cfg.Identity, Tracker: d.trackerID,
		Secret: d.cfg.Secret, ListenPort: port, Folder: d.cfg.Folder,
		LastSeq: d.idx.Seq, Handler: handler{d}, Log: d.log,
		LastEpoch:   func() tracker.Epoch { return tracker.Epoch(d.idx.Epoch()) },
		Registering: d.registering,
	})
	d.log.Info("peer started", "device", d.self.String(), "folder", d.cfg.Root,
		"listen", l.Addr().String(), "tracker", d.trackerAddr)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(gctx, l) })
	g.Go(func() error {
		err := d.client.Run(gctx)
		if gctx.Err() != nil {
			return nil
		}
		return err
	})
	changes := make(chan watch.Change) // folderLoop's watcher to scanLoop
	g.Go(func() error { return d.folderLoop(gctx, changes) })
	g.Go(func() error { return d.scanLoop(gctx, changes) })
	g.Go(func() error { return d.pullLoop(gctx) })
	g.Go(func() error { return d.statsLoop(gctx) })
	g.Go(func() error { return d.pruneLoop(gctx) })
	err = g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = nil
	}
	d.writeStats()
	st := d.Stats()
	d.log.Info("peer stopped", "bytes_received", st.BytesReceived, "bytes_sent", st.BytesSent,
		"pieces_local", st.PiecesLocal, "pieces_fetched", st.PiecesFetched, "err", err)
	return err
}

// isMember is the piece server's Authorizer: a device in the live peer list.
func (d *Daemon) isMember(id identity.DeviceID) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.peers[id]
	return ok
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sources returns the live owners among owners, this device excluded.
func (d *Daemon) sources(owners [][32]byte) []transfer.Source {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []transfer.Source
	for _, o := range owners {
		id := identity.DeviceID(o)
		if id == d.self {
			continue
		}
		if addr, ok := d.peers[id]; ok && addr != "" {
			out = append(out, transfer.Source{ID: id, Addr: addr})
		}
	}
	return out
}

func (d *Daemon) currentPieceSize() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.pieceSize
}

// beginApply marks path as being applied; false if it already is, or if
// its want is being replaced (heldWrites.storing).
func (d *Daemon) beginApply(path string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.applying[path] || d.held.storing[path] {
		return false
	}
	d.applying[path] = true
	return true
}

func (d *Daemon) endApply(path string) {
	d.mu.Lock()
	delete(d.applying, path)
	d.mu.Unlock()
}

func (d *Daemon) isApplying(path string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.applying[path]
}

// reportingVersion reports whether version id of path is being reported.
func (d *Daemon) reportingVersion(path string, id manifest.ID) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	cur, ok := d.reporting[path]
	return ok && cur == id
}

// setReporting marks (on) or unmarks the versions of batch as in flight.
func (d *Daemon) setReporting(batch []change, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range batch {
		if on {
			d.reporting[c.m.Path] = c.m.ID
		} else if d.reporting[c.m.Path] == c.m.ID {
			delete(d.reporting, c.m.Path)
		}
	}
}
