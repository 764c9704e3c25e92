package tracker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// Defaults for zero ServerConfig fields.
const (
	DefaultListen      = ":7000"
	DefaultInterval    = 30 * time.Second
	DefaultPeerTimeout = 90 * time.Second
	// releasePeriod is how often the state's mapped pages are released (see
	// store.releaseMapped).
	releasePeriod = time.Second
	// registerTimeout bounds the time from connection to REGISTER.
	registerTimeout = 10 * time.Second
	// errorGrace is how long the tracker waits for a peer to close after an
	// ERROR before it closes the connection itself.
	errorGrace = 2 * time.Second
)

// File names in the state directory.
const (
	StateFile = "state.db"
	TokenFile = "join.token"
)

// ServerConfig configures a tracker. Zero fields take the defaults.
type ServerConfig struct {
	Listen      string             // address to listen on, UDP and TCP on the same port (DefaultListen)
	Mode        transport.Mode     // transports served: auto (both, ""), quic or tcp
	StateDir    string             // state.db, join.token and (if Identity is nil) the identity; required
	Identity    *identity.Identity // nil: identity.LoadOrCreate(StateDir)
	Interval    time.Duration      // keep-alive interval told to peers (DefaultInterval)
	PeerTimeout time.Duration      // a peer silent this long is dropped (DefaultPeerTimeout)
	PieceSize   int64              // piece size told to peers (manifest.DefaultPieceSize)
	Transport   transport.Options  // QUIC and TCP options (zero fields: the tracker's windows and stream limit of limits.go, then the transport defaults)
	Log         *slog.Logger       // nil discards
	Debug       DebugHooks         // hooks for tests of interleavings; zero in production
}

// DebugHooks are hooks for tests that need one interleaving of the
// tracker's goroutines. Every hook may be nil (the zero value does nothing).
type DebugHooks struct {
	// BeforeLive runs after a session is answered REGISTERED and before it
	// is made live (the peer list it was sent is already built).
	BeforeLive func()
}

// Server is a tracker: it owns its listener, its store and every peer
// session. New opens the store and the listener (so that Addr and Token are
// known at once); Run serves until its context ends and then releases all of
// it. A Server runs once.
type Server struct {
	cfg   ServerConfig
	id    *identity.Identity
	store *store
	ln    *transport.NodeListener
	admin net.Listener // the admin socket (access_socket.go); nil if it could not be made
	token Token
	log   *slog.Logger

	ran atomic.Bool // Run was called

	mu    sync.Mutex
	peers map[peerKey]*session // live sessions by folder and device

	lim     *limits         // connection counts and frame budgets (limits.go)
	devices *deviceBook     // what devices said about themselves (devices.go)
	metrics *trackerMetrics // its Prometheus registry (metrics.go)
}

type peerKey struct {
	folder string
	dev    identity.DeviceID
}

// New opens the tracker's state (creating it on first start), writes
// <StateDir>/join.token (0600) and starts listening. Run releases all of it.
func New(cfg ServerConfig) (*Server, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("tracker: no state directory")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.PeerTimeout <= 0 {
		cfg.PeerTimeout = DefaultPeerTimeout
	}
	if cfg.PieceSize == 0 {
		cfg.PieceSize = manifest.DefaultPieceSize
	}
	if cfg.PieceSize < manifest.MinPieceSize || cfg.PieceSize > manifest.MaxPieceSize {
		return nil, fmt.Errorf("tracker: piece size %d outside [%d, %d]", cfg.PieceSize, manifest.MinPieceSize, manifest.MaxPieceSize)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport.StreamWindow == 0 {
		cfg.Transport.StreamWindow = DefaultStreamWindow
	}
	if cfg.Transport.ConnWindow == 0 {
		cfg.Transport.ConnWindow = DefaultConnWindow
	}
	if cfg.Transport.MaxIncomingStreams == 0 {
		cfg.Transport.MaxIncomingStreams = MaxStreamsPerConn
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("tracker: state directory: %w", err)
	}
	id := cfg.Identity
	if id == nil {
		var err error
		if id, err = identity.LoadOrCreate(cfg.StateDir); err != nil {
			return nil, fmt.Errorf("tracker: identity: %w", err)
		}
	}
	st, err := openStore(filepath.Join(cfg.StateDir, StateFile), rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, id: id, store: st, log: cfg.Log, peers: map[peerKey]*session{}, lim: newLimits()}
	if s.devices, err = loadDevices(st.db); err != nil {
		st.close(leaveEpochOpen)
		return nil, err
	}
	s.metrics = newTrackerMetrics(s)
	s.token = Token{Tracker: id.ID, Secret: st.secret}
	if err := writeTokenFile(filepath.Join(cfg.StateDir, TokenFile), s.token); err != nil {
		st.close(leaveEpochOpen)
		return nil, err
	}
	if s.ln, err = transport.ListenNode(cfg.Listen, id, cfg.Transport, cfg.Mode); err != nil {
		st.close(leaveEpochOpen)
		return nil, fmt.Errorf("tracker: %w", err)
	}
	s.admin = listenAdmin(s.cfg.StateDir, s.log)
	s.log.Info("new epoch", "epoch", st.currentEpoch(), "previous", st.started.prev, "seq", st.current(), "why", st.started.why())
	return s, nil
}

// writeTokenFile writes the token as one line, 0600, atomically.
func writeTokenFile(path string, t Token) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(t.String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("tracker: write join token: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("tracker: write join token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tracker: write join token: %w", err)
	}
	return nil
}

// Token returns the join token (the current one: a rotation replaces it).
func (s *Server) Token() Token {
	sec, _ := s.store.acl().ownSecret()
	return Token{Tracker: s.id.ID, Secret: sec}
}

// ID returns the tracker's device ID.
func (s *Server) ID() identity.DeviceID { return s.id.ID }

// Addr returns the address the tracker listens on (UDP; in mode tcp, TCP;
// the same port number serves both).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run accepts peers until ctx ends (then it returns nil) or accepting fails.
// Before it returns it closes every session and the listener, waits for
// every goroutine it started and closes the store, recording that the epoch
// ended cleanly; an error in doing so is returned.
func (s *Server) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("tracker: Run called twice")
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup // every goroutine of the server
	wg.Go(func() { s.sweep(sctx) })
	wg.Go(func() { s.release(sctx) })
	wg.Go(func() { s.devices.flushLoop(sctx, s.log) })
	if s.admin != nil {
		wg.Go(func() {
			serveAdmin(sctx, s.admin, &adminService{st: s.store, devices: s.devices, tracker: s.id.ID, srv: s}, s.log)
		})
	}

	files, members := s.store.counts()
	s.log.Info("tracker serving", "addr", s.ln.Addr(), "transports", s.ln.Networks(), "device", s.id.ID, "files", files, "members", members, "seq", s.store.current(), "epoch", s.store.currentEpoch())
	var err error
	for {
		var c transport.Session
		c, err = s.ln.AcceptSession(sctx)
		if err != nil {
			break
		}
		wg.Go(func() { s.handle(sctx, c) })
	}
	var errs []error
	if ctx.Err() == nil && !errors.Is(err, transport.ErrClosed) {
		errs = append(errs, fmt.Errorf("tracker: accept: %w", err))
	}
	cancel() // ends every session (they watch sctx)
	lerr := s.ln.Close()
	wg.Wait()
	if err := s.devices.flush(); err != nil {
		s.log.Warn("record devices", "err", err) // shown only: the epoch still ends cleanly
	}
	// Every session has ended: nothing more can be committed, so the
	// epoch ended cleanly (its peers resume after a restart).
	if err := s.store.close(endEpoch); err != nil {
		errs = append(errs, fmt.Errorf("tracker: close store: %w", err))
	} else if lerr != nil && !errors.Is(lerr, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("tracker: close listener: %w", lerr))
	}
	return errors.Join(errs...)
}

// sweep drops peers silent for longer than the peer timeout.
func (s *Server) sweep(ctx context.Context) {
	period := max(s.cfg.PeerTimeout/4, 10*time.Millisecond)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			var stale []*session
			for _, ss := range s.peers {
				if now.Sub(ss.seen()) > s.cfg.PeerTimeout {
					stale = append(stale, ss)
				}
			}
			s.mu.Unlock()
			for _, ss := range stale {
				s.log.Info("peer timed out", "device", ss.dev.Short(), "folder", ss.folder)
				ss.fail(errTimeout(s.cfg.PeerTimeout))
			}
		}
	}
}

// release periodically returns the state database's mapped pages to the
// kernel so the tracker's RSS stays at what it is using (docs/ARCHITECTURE.md §4: small).
func (s *Server) release(ctx context.Context) {
	t := time.NewTicker(releasePeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.releaseMapped(); err != nil {
				s.log.Warn("release mapped pages", "err", err)
				return
			}
		}
	}
}
