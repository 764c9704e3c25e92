package tracker

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

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
	conn   *transport.Conn
	stream *quic.Stream
	dev    identity.DeviceID
	num    uint32
	folder string
	addr   string
	sent   uint64 // highest sequence number pushed; owned by the writer
	epoch  Epoch  // the tracker epoch it registered in
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

// handle runs one connection from accept to close.
func (s *Server) handle(ctx context.Context, c *transport.Conn) {
	log := s.log.With("device", c.Remote.Short(), "remote", c.RemoteAddr())
	defer c.CloseWithError(0, "")
	actx, cancel := context.WithTimeout(ctx, registerTimeout)
	st, err := c.AcceptStream(actx)
	cancel()
	if err != nil {
		log.Debug("no control stream", "err", err)
		return
	}
	ss, err := s.register(c, st)
	if err != nil {
		re := asRemoteError(err)
		log.Info("registration refused", "err", re.msg)
		s.refuse(ctx, c, st, re)
		return
	}
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
			_ = c.CloseWithError(quic.ApplicationErrorCode(trackerpb.ErrorCode_ERROR_UNAVAILABLE), "tracker shutting down")
		}
		_ = c.CloseWithError(0, "") // unblocks the reader; no-op after an ERROR close
	}()
	err = ss.readLoop()
	if err != nil && !errors.Is(err, io.EOF) {
		log.Info("peer connection ended", "err", err)
	}
	if sctx.Err() == nil && !errors.Is(err, io.EOF) && !isConnGone(err) {
		// bad input (or a failure already queued): let the writer send the
		// ERROR and close after its grace period
		ss.fail(asRemoteError(err))
	} else {
		scancel()
	}
	wg.Wait()
	scancel()
	s.removePeer(ss)
	s.deviceLeft(ss)
	s.sessionEnded(ss.dev)
}

func isConnGone(err error) bool {
	var ie *quic.IdleTimeoutError
	var ae *quic.ApplicationError
	return errors.As(err, &ie) || errors.As(err, &ae) || errors.Is(err, net.ErrClosed)
}
