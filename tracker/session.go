package tracker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// session is one registered peer connection. The handle goroutine reads the
// control stream; the write goroutine owns all writes to it after
// REGISTERED. Others talk to the writer through mu-guarded fields and the
// notify channel.
type session struct {
	srv    *Server
	conn   transport.Session
	stream transport.Stream
	dev    identity.DeviceID
	num    uint32
	folder string
	addr   string
	frames *deviceLimits // its device's frame budget (limits.go)
	sent   uint64        // highest sequence number pushed; owned by the writer
	epoch  Epoch         // the tracker epoch it registered in
	// held: the peer is re-announcing (session_epoch.go); nothing is pushed
	// until its REANNOUNCE_DONE.
	held atomic.Bool
	re   reannounceTally // its re-announce's outcomes; owned by the reader

	lastSeen atomic.Int64 // unix ns of the last frame received
	notify   chan struct{}

	mu         sync.Mutex
	out        []*trackerpb.TrackerMsg // results waiting for the writer
	peersDirty bool
	failure    *remoteError // set once: the writer sends it and closes
	done       chan struct{}
}

func (ss *session) seen() time.Time { return time.Unix(0, ss.lastSeen.Load()) }

func (ss *session) wake() {
	select {
	case ss.notify <- struct{}{}:
	default:
	}
}

func (ss *session) queue(m *trackerpb.TrackerMsg) {
	ss.mu.Lock()
	ss.out = append(ss.out, m)
	ss.mu.Unlock()
	ss.wake()
}

func (ss *session) markPeers() {
	ss.mu.Lock()
	ss.peersDirty = true
	ss.mu.Unlock()
	ss.wake()
}

// fail makes the writer send e and close the connection; the first call wins.
func (ss *session) fail(e *remoteError) {
	ss.mu.Lock()
	if ss.failure == nil {
		ss.failure = e
	}
	ss.mu.Unlock()
	ss.wake()
	ss.srv.removePeer(ss) // the others learn at once, not after the grace period
}

// handle runs one connection from accept to close: one device, one control
// stream per folder on it (see the protocol header). Each stream runs its
// own session (serveStream); an error that concerns one folder ends only
// its stream. A connection without a control stream for registerTimeout
// (none opened yet, or all ended) is closed; otherwise it lives until the
// peer closes it, it goes idle, or the tracker shuts down.
func (s *Server) handle(ctx context.Context, c transport.Session) {
	log := s.log.With("device", c.RemoteDevice().Short(), "remote", c.RemoteAddr(), "transport", c.Network())
	defer c.CloseWithError(0, "")
	_, member := s.store.member(c.RemoteDevice())
	dl, release, err := s.lim.admitConn(c.RemoteDevice(), member)
	if err != nil {
		log.Warn("connection refused", "err", err)
		_ = c.CloseWithError(transport.ErrorCode(trackerpb.ErrorCode_ERROR_UNAVAILABLE), err.Error())
		return
	}
	defer release()
	cf := &connFolders{names: map[string]bool{}, dev: dl}
	cf.idle = time.AfterFunc(registerTimeout, func() { _ = c.CloseWithError(0, "no control stream") })
	defer cf.idle.Stop()
	var wg sync.WaitGroup
	for {
		st, err := c.AcceptStream(ctx)
		if err != nil {
			log.Debug("connection ended", "err", err)
			break
		}
		cf.begin()
		wg.Go(func() {
			defer cf.end()
			s.serveStream(ctx, c, cf, st, log)
		})
	}
	if ctx.Err() != nil {
		_ = c.CloseWithError(transport.ErrorCode(trackerpb.ErrorCode_ERROR_UNAVAILABLE), "tracker shutting down")
	}
	wg.Wait()
}

// connFolders are the control streams of one connection: how many run
// (the connection is closed after registerTimeout without one) and the
// folders registered (a device may not register the same folder twice at
// once on one connection).
type connFolders struct {
	idle *time.Timer   // closes the connection; stopped while a stream runs
	dev  *deviceLimits // the device's connection count and frame budget

	mu      sync.Mutex
	streams int
	names   map[string]bool
}

func (cf *connFolders) begin() {
	cf.mu.Lock()
	cf.streams++
	cf.idle.Stop()
	cf.mu.Unlock()
}

func (cf *connFolders) end() {
	cf.mu.Lock()
	if cf.streams--; cf.streams == 0 {
		cf.idle.Reset(registerTimeout)
	}
	cf.mu.Unlock()
}

// claim records folder as registered on the connection; false if it
// already is.
func (cf *connFolders) claim(folder string) bool {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.names[folder] {
		return false
	}
	cf.names[folder] = true
	return true
}

func (cf *connFolders) release(folder string) {
	cf.mu.Lock()
	delete(cf.names, folder)
	cf.mu.Unlock()
}

// serveStream runs one control stream (one folder's session) from
// REGISTER to its end. It never closes the connection, except when the
// tracker shuts down.
func (s *Server) serveStream(ctx context.Context, c transport.Session, cf *connFolders, st transport.Stream, log *slog.Logger) {
	ss, err := s.register(c, st, cf)
	if err != nil {
		re := asRemoteError(err)
		log.Info("registration refused", "err", re.msg)
		refuseStream(st, re)
		return
	}
	defer cf.release(ss.folder)
	log = log.With("folder", ss.folder)
	log.Info("peer registered", "addr", ss.addr, "last_seq", ss.sent)
	if h := s.cfg.Debug.BeforeLive; h != nil {
		h()
	}
	s.addPeer(ss)

	sctx, scancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ss.writeLoop(sctx)
		if ctx.Err() != nil {
			_ = c.CloseWithError(transport.ErrorCode(trackerpb.ErrorCode_ERROR_UNAVAILABLE), "tracker shutting down")
		}
		ss.stream.CancelRead(0) // unblocks the reader; no-op after an ERROR
		_ = ss.stream.Close()
	}()
	err = ss.readLoop()
	if err != nil && !errors.Is(err, io.EOF) {
		log.Info("peer stream ended", "err", err)
	}
	if sctx.Err() == nil && !errors.Is(err, io.EOF) && !isConnGone(err) && !isStreamGone(err) {
		// bad input (or a failure already queued): let the writer send the
		// ERROR and close the stream
		ss.fail(asRemoteError(err))
	} else {
		scancel()
	}
	wg.Wait()
	scancel()
	s.removePeer(ss)
	s.devices.deviceLeft(ss)
}

// isStreamGone reports whether err is the stream's end by the tracker
// itself (CancelRead after an ERROR) or by the peer (a reset).
func isStreamGone(err error) bool {
	_, ok := transport.AsStreamError(err)
	return ok
}

func isConnGone(err error) bool {
	_, app := transport.AsApplicationError(err)
	return app || transport.IsConnLost(err) || errors.Is(err, net.ErrClosed)
}
