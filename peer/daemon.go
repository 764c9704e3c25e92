package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/peer/watch"
	"github.com/dartsync/dartsync/tracker"
)

// ErrNoTracker: no tracker address was given and none is remembered.
var ErrNoTracker = errors.New("no tracker: give --tracker and --token for the first join")

// Daemon is one running peer: the device-wide things (identity, listener,
// piece server, fetcher, the tracker to join) and the folder it syncs,
// whose parts it wires and whose goroutines it owns. Create it with New,
// run it with Run.
type Daemon struct {
	cfg  Config
	log  *slog.Logger
	self identity.DeviceID

	trackerAddr string
	trackerID   identity.DeviceID

	f *folder

	obs *observers // Prometheus metrics (metrics.go)
	api *apiState  // local control API: events, recent errors (api.go)
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
	obs := newObservers(cfg.Version)
	api := newAPIState()
	cfg.Log = api.errs.wrap(obs.wrapLog(cfg.Log))
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
		cfg: cfg, log: cfg.Log, self: cfg.Identity.ID,
		trackerAddr: cfg.TrackerAddr, trackerID: cfg.TrackerID,
		f: newFolder(cfg, cfg.Identity.ID, idx, store), obs: obs, api: api,
	}
	obs.d = d
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
			d.trackerID = mem.Tracker
		}
		d.f.state.setPieceSize(mem.PieceSize)
	}
	if d.trackerAddr == "" || d.trackerID.IsZero() {
		d.closeStores()
		return nil, ErrNoTracker
	}
	d.f.handler.trackerAddr, d.f.handler.trackerID = d.trackerAddr, d.trackerID
	d.f.guard.start()
	return d, nil
}

func (d *Daemon) closeStores() {
	if err := d.f.idx.Flush(); err != nil {
		d.log.Warn("index flush on close", "err", err)
	}
	d.f.store.Close()
	d.f.idx.Close()
}

// Stats returns the current counters.
func (d *Daemon) Stats() StatsSnapshot {
	s := d.f.stats.Snapshot()
	s.Seq = d.f.idx.Seq()
	s.Paused, s.PausedReason = d.f.guard.get()
	return s
}

// ID returns this device's ID.
func (d *Daemon) ID() identity.DeviceID { return d.self }

// Run serves until ctx is cancelled (then it returns nil) or a fatal error
// (a wrong token, a port in use). It closes the index and chunk store before
// returning; a Daemon runs once.
//
// Its errgroup owns every goroutine of the peer: the piece server, the
// tracker client (whose callbacks run on its dispatcher goroutine: the
// handler), the folder guard's loop (which owns the watcher), the
// reporter's scan loop, the puller's pull loop, the stats writer and the
// versions pruner. They talk through the folder's kick channels and its
// shared state.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.closeStores()
	f := d.f
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
	if n, err := f.pull.recoverApplied(ctx); err != nil {
		d.log.Warn("record versions applied before the last stop", "recorded", n, "err", err)
	}
	fetcher := transfer.NewFetcher(d.cfg.Identity, d.obs.fetchOptions(d.cfg.Fetch), d.log)
	defer fetcher.Close()
	server := transfer.NewServer(countingSource{src: f.store, n: &f.stats.BytesSent}, f.state.isMember, d.log,
		transfer.WithUploadLimit(d.cfg.UploadLimit), transfer.WithServed(d.obs.m.ObserveServed))
	d.obs.running(fetcher, server)
	client := tracker.NewClient(tracker.ClientConfig{
		Addr: d.trackerAddr, Identity: d.cfg.Identity, Tracker: d.trackerID,
		Secret: d.cfg.Secret, ListenPort: port, Folder: d.cfg.Folder,
		DeviceName: d.deviceName(), Version: d.cfg.Version,
		LastSeq: f.idx.Seq, Handler: f.handler, Log: d.log,
		LastEpoch:   func() tracker.Epoch { return tracker.Epoch(f.idx.Epoch()) },
		Registering: f.handler.registering,
	})
	f.connect(client, fetcher)
	d.log.Info("peer started", "version", d.cfg.Version, "device", d.self.String(), "folder", d.cfg.Root,
		"state", d.cfg.StateDir, "listen", l.Addr().String(), "tracker", d.trackerAddr)

	g, gctx := errgroup.WithContext(ctx)
	if err := d.serveMetrics(gctx, g); err != nil {
		return err
	}
	d.serveAPI(gctx, g, l.Addr().String())
	g.Go(func() error { return server.Serve(gctx, l) })
	g.Go(func() error {
		err := client.Run(gctx)
		if gctx.Err() != nil {
			return nil
		}
		return err
	})
	changes := make(chan watch.Change) // the guard's watcher to the reporter
	g.Go(func() error { return f.guard.loop(gctx, changes) })
	g.Go(func() error { return f.report.loop(gctx, changes) })
	g.Go(func() error { return f.pull.loop(gctx) })
	g.Go(func() error { return d.statsLoop(gctx) })
	g.Go(func() error { return f.keep.loop(gctx) })
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
