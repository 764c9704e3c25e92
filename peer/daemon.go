package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/cockroachdb/pebble"
	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/internal/discovery"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
)

// ErrNoTracker: no tracker address was given and none is remembered.
var ErrNoTracker = errors.New("no tracker: give a join token (--token-file) for the first join, and --tracker HOST:PORT if the tracker is not on the local network")

// Daemon is one running peer: the device-wide things (identity, listener,
// piece server, fetcher, the tracker connection) and the folders it syncs
// (folders.go), whose parts it wires and whose goroutines it owns. Create
// it with New, run it with Run.
type Daemon struct {
	cfg  Config
	log  *slog.Logger
	self identity.DeviceID

	trackerAddr string // given or remembered; "" to look for on the LAN
	trackerID   identity.DeviceID
	tracker     *trackerResolver  // the address dialled (discover.go)
	finder      *discovery.Finder // nil without Config.LANDiscovery

	folders []*folder          // in the order of Config.Folders
	byName  map[string]*folder // by tracker folder name
	// cache is the block cache every folder's index and chunk store share
	// (storeCacheSize); made by the first openFolder, released by
	// closeStores.
	cache *pebble.Cache

	obs *observers         // Prometheus metrics (metrics.go)
	bw  *bandwidth.Limiter // piece bytes sent and received (limits.go)
	api *apiState          // local control API: events, recent errors (api.go)
	gc  *gcBoost           // GC target while small files are pulled (gc_boost.go)
}

// New opens the index and chunk store of each folder of cfg and resolves
// the tracker to join (cfg's, else the one a folder remembers). A folder
// seen for the first time is created if missing and marked; one whose
// marker is missing while its index holds files starts paused (see doc.go,
// "Folder marker"). Without an index and a tracker to join, New fails with
// ErrNoTracker. A folder whose state cannot be opened because its disk is
// full fails New with an error wrapping syscall.ENOSPC (NewContext waits
// for room instead).
func New(cfg Config) (*Daemon, error) { return newDaemon(nil, cfg) }

// NewContext is New, except that while a folder's state cannot be opened
// because its disk is full it waits for room (open_wait.go), until ctx
// ends.
func NewContext(ctx context.Context, cfg Config) (*Daemon, error) { return newDaemon(ctx, cfg) }

// newDaemon is New; with ctx non-nil, opening a folder's stores waits
// for room on a full disk.
func newDaemon(ctx context.Context, cfg Config) (*Daemon, error) {
	cfg.defaults()
	if cfg.Identity == nil {
		return nil, errors.New("peer: no identity")
	}
	fcs, err := cfg.folderConfigs()
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	if cfg.StateDir == "" {
		cfg.StateDir = fcs[0].StateDir // the local API's socket (Config.StateDir)
	}
	bw, err := bandwidth.New(cfg.Bandwidth)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	obs := newObservers(cfg.Version)
	api := newAPIState()
	cfg.Log = api.errs.wrap(obs.wrapLog(cfg.Log))
	if cfg.TrackerID.IsZero() || (cfg.TrackerAddr == "" && !cfg.LANDiscovery) {
		had := false
		for _, fc := range fcs {
			ok, err := index.Exists(fc.StateDir)
			if err != nil {
				return nil, fmt.Errorf("peer: %w", err)
			}
			had = had || ok
		}
		if !had {
			return nil, ErrNoTracker
		}
	}
	d := &Daemon{
		cfg: cfg, log: cfg.Log, self: cfg.Identity.ID,
		trackerAddr: cfg.TrackerAddr, trackerID: cfg.TrackerID,
		byName: make(map[string]*folder, len(fcs)), obs: obs, api: api, bw: bw,
		gc: newGCBoost(cfg.SmallFilesGC),
	}
	obs.d = d
	for _, fc := range fcs {
		f, err := d.openFolder(ctx, cfg.forFolder(fc))
		if err != nil {
			d.closeStores()
			return nil, err
		}
		d.folders = append(d.folders, f)
		d.byName[f.name] = f
	}
	if d.trackerID.IsZero() || (d.trackerAddr == "" && !cfg.LANDiscovery) {
		d.closeStores()
		return nil, ErrNoTracker
	}
	if cfg.LANDiscovery {
		d.finder = discovery.NewFinder(discovery.FinderConfig{
			DiscoveryPort: cfg.DiscoveryPort, Targets: cfg.DiscoveryTargets, Want: d.trackerID, Log: d.log})
	}
	d.tracker = newTrackerResolver(d.trackerAddr, d.trackerID, d.finder, cfg.DiscoveryPort, d.log)
	refused := newRefusals(len(d.folders))
	for _, f := range d.folders {
		f.handler.trackerAddr, f.handler.trackerID = d.tracker.current, d.trackerID
		f.guard.refusals = refused
		f.guard.start()
	}
	return d, nil
}

// openFolder opens the index and chunk store of the folder of cfg (a
// forFolder Config) and wires it; a membership it remembers gives the
// tracker to join when none is known yet.
func (d *Daemon) openFolder(ctx context.Context, cfg Config) (*folder, error) {
	log := cfg.Log
	if len(d.cfg.Folders) > 1 {
		log = log.With("folder", cfg.Folder)
		cfg.Log = log
	}
	if d.cache == nil {
		d.cache = kvstore.NewCache(storeCacheSize)
	}
	idx, store, err := d.openStores(ctx, cfg) // open_wait.go
	if err != nil {
		return nil, err
	}
	f := newFolder(cfg, d.self, idx, store)
	f.pull.gc = d.gc
	f.guard.control = localapi.ControlPath(d.cfg.StateDir)
	mem, ok, err := idx.Membership()
	if err != nil {
		store.Close()
		idx.Close()
		return nil, err
	}
	if ok {
		if d.trackerAddr == "" && (d.trackerID.IsZero() || d.trackerID == mem.Tracker) {
			d.trackerAddr = mem.Addr // not another tracker's: a token for a new one is looked for
		}
		if d.trackerID.IsZero() && (d.cfg.TrackerAddr == "" || d.cfg.TrackerAddr == mem.Addr) && d.trackerAddr == mem.Addr {
			d.trackerID = mem.Tracker
		}
		f.state.setPieceSize(mem.PieceSize)
	}
	return f, nil
}

func (d *Daemon) closeStores() {
	for _, f := range d.folders {
		if err := f.idx.Flush(); err != nil {
			d.log.Warn("index flush on close", "folder", f.name, "err", err)
		}
		f.store.Close()
		f.idx.Close()
	}
	if d.cache != nil {
		d.cache.Unref()
		d.cache = nil
	}
}

// trackerStreamWindow and trackerConnWindow are the receive windows of the
// connection to the tracker (its updates arrive no faster than the index
// stores them).
const (
	trackerStreamWindow = 1 << 20
	trackerConnWindow   = 2 << 20
)

// storeCacheSize is the block cache the folders' stores share. Pebble
// charges each store's memtables to it (index 2 × 1 MiB, chunk store
// 2 × 256 KiB per folder), and the rest holds the index pages a scan or a
// pull is reading: a fixed cost, whatever the number of files.
const storeCacheSize = 12 << 20

// Stats returns the current counters, summed over the folders (Paused:
// any folder is paused, with its reason).
func (d *Daemon) Stats() StatsSnapshot {
	var sum StatsSnapshot
	for i, f := range d.folders {
		s := f.snapshot()
		if i == 0 {
			sum = s
			continue
		}
		sum.add(s)
	}
	return sum
}

// snapshot is the folder's counters.
func (f *folder) snapshot() StatsSnapshot {
	s := f.stats.Snapshot()
	s.Seq = f.idx.Seq()
	s.Paused, s.PausedReason = f.guard.get()
	return s
}

// ID returns this device's ID.
func (d *Daemon) ID() identity.DeviceID { return d.self }

// Run serves until ctx is cancelled (then it returns nil) or a fatal error
// (a wrong token, a port in use). It closes the indexes and chunk stores
// before returning; a Daemon runs once.
//
// Its errgroup owns every goroutine of the peer: the piece server (of
// every folder), and per folder the tracker client (whose callbacks run
// on its dispatcher goroutine: the handler), the folder guard's loop
// (which owns the watcher), the reporter's scan loop, the puller's pull
// loop and the versions pruner; then the stats writer. A folder's parts
// talk through the folder's kick channels and its shared state; folders
// share nothing but the device-wide things (folders.go).
func (d *Daemon) Run(ctx context.Context) error {
	defer d.closeStores()
	l, err := transport.ListenNode(d.cfg.ListenAddr, d.cfg.Identity, transfer.ListenOptions(), d.cfg.Transport)
	if err != nil {
		return fmt.Errorf("peer: listen %s: %w", d.cfg.ListenAddr, err)
	}
	defer l.Close()
	port := 0
	switch a := l.Addr().(type) { // one port number for UDP and TCP
	case *net.UDPAddr:
		port = a.Port
	case *net.TCPAddr:
		port = a.Port
	}
	// Recovery only records versions found on disk: a paused folder's
	// absent files are never taken for anything.
	for _, f := range d.folders {
		if n, err := f.pull.recoverApplied(ctx); err != nil {
			f.log.Warn("record versions applied before the last stop", "recorded", n, "err", err)
		}
	}
	// One Dialer for the sources: its memory of which transport answered
	// is per address.
	topt := d.cfg.Fetch.Transport
	if topt.Log == nil {
		topt.Log = d.log
	}
	netDialer := transport.NewDialer(d.cfg.Identity, topt, d.cfg.Transport)
	fopt := d.obs.fetchOptions(d.cfg.Fetch)
	fopt.Dialer = netDialer
	fopt.Bandwidth = d.bw              // never the tracker's connection: the Dialer is not limited
	fopt.BulkDialer = netDialer.Bulk() // large files: TCP first on a LAN
	fetcher := transfer.NewFetcher(d.cfg.Identity, fopt, d.log)
	defer fetcher.Close()
	server := transfer.NewFolderServer(d, d.log,
		transfer.WithBandwidth(d.bw), transfer.WithServed(d.obs.m.ObserveServed))
	d.obs.running(fetcher, server)
	// The tracker's connection has a Dialer of its own, with small receive
	// windows: during a catch-up the tracker sends updates faster than the
	// index stores them, and the downloads' windows (16 to 32 MiB a stream)
	// held up to 14 MiB of them in QUIC's buffers (docs/scale.md).
	tnet := topt
	tnet.StreamWindow, tnet.ConnWindow = trackerStreamWindow, trackerConnWindow
	dialer := tracker.NewDialer(tracker.DialerConfig{
		Addr: d.trackerAddr, Identity: d.cfg.Identity, Tracker: d.trackerID, Log: d.log,
		Net: transport.NewDialer(d.cfg.Identity, tnet, d.cfg.Transport),
	})
	dialer.SetResolve(d.tracker.resolve) // LAN discovery (discover.go)
	defer dialer.Close()
	d.api.tracker.Store(dialer)
	clients := make([]*tracker.Client, len(d.folders))
	for i, f := range d.folders {
		f.handler.closeLeft = server.CloseNonMembers // before the client copies the handler
		clients[i] = tracker.NewClient(tracker.ClientConfig{
			Addr: d.trackerAddr, Identity: d.cfg.Identity, Tracker: d.trackerID, Dialer: dialer,
			Secret: d.cfg.Secret, ListenPort: port, Folder: f.name,
			DeviceName: d.deviceName(), Version: d.cfg.Version,
			LastSeq: f.idx.Seq, Handler: f.handler, Log: f.log,
			LastEpoch:   func() tracker.Epoch { return tracker.Epoch(f.idx.Epoch()) },
			LastHeard:   f.idx.Heard,
			Registering: f.handler.registering,
		})
		f.connect(clients[i], fetcher)
		d.log.Info("peer started", "version", d.cfg.Version, "device", d.self.String(), "folder", f.root,
			"name", f.name, "state", f.stateDir, "listen", l.Addr().String(), "transports", l.Networks(), "tracker", d.trackerAddr)
	}

	g, gctx := errgroup.WithContext(ctx)
	if err := d.serveMetrics(gctx, g); err != nil {
		return err
	}
	d.serveAPI(gctx, g, l.Addr().String())
	g.Go(func() error { return server.Serve(gctx, l) })
	if d.finder != nil {
		g.Go(func() error { return d.finder.Run(gctx) })
	}
	for i, f := range d.folders {
		f.run(gctx, g, clients[i], len(d.folders) == 1)
	}
	g.Go(func() error { return d.statsLoop(gctx) })
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

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
