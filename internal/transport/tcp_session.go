package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/dartsync/dartsync/internal/identity"
)

// The control stream is the first yamux stream of a TCP session, opened by
// the client. The server writes ctlReady once it has accepted the client;
// afterwards either side may write one goaway message
// (ctlGoaway, code uint64, reason length uint16, reason) before closing.
const (
	ctlReady  = 0x52 // 'R'
	ctlGoaway = 0x47 // 'G'

	maxReason = 1 << 10 // longer close reasons are cut
	// closeGrace bounds how long CloseWithError waits for the other side to
	// read the goaway message and close the connection itself.
	closeGrace = 2 * time.Second
)

// ErrConnLost is the cause of a TCP session that ended without a goaway
// message: the connection broke or keep-alives went unanswered.
var ErrConnLost = errors.New("connection lost")

// tcpSession is a Session over yamux over TLS over TCP.
type tcpSession struct {
	mux    *yamux.Session
	ctl    *yamux.Stream
	remote identity.DeviceID
	opt    Options

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // the control reader and stream tail readers
	once   sync.Once

	mu      sync.Mutex
	closing bool // no new tail readers: wg is being waited for
}

// startTail runs a stream's tail reader as a goroutine of the session,
// unless the session is closing (its streams are then closed anyway).
func (s *tcpSession) startTail(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.wg.Go(f)
}

func newTCPSession(mux *yamux.Session, ctl *yamux.Stream, remote identity.DeviceID, opt Options) *tcpSession {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &tcpSession{mux: mux, ctl: ctl, remote: remote, opt: opt, ctx: ctx, cancel: cancel}
	s.wg.Go(s.readControl)
	return s
}

// readControl waits for the other side's goaway message or the end of the
// session, and ends the session's context with the cause.
func (s *tcpSession) readControl() {
	var hdr [11]byte
	_, err := io.ReadFull(s.ctl, hdr[:])
	if err == nil && hdr[0] == ctlGoaway {
		reason := make([]byte, min(binary.BigEndian.Uint16(hdr[9:]), maxReason))
		_, _ = io.ReadFull(s.ctl, reason)
		s.cancel(&ApplicationError{Code: ErrorCode(binary.BigEndian.Uint64(hdr[1:])), Reason: string(reason), Remote: true})
		_ = s.mux.Close()
		return
	}
	<-s.mux.CloseChan()
	s.cancel(ErrConnLost)
}

func (s *tcpSession) RemoteDevice() identity.DeviceID { return s.remote }
func (s *tcpSession) RemoteAddr() net.Addr            { return s.mux.RemoteAddr() }
func (s *tcpSession) LocalAddr() net.Addr             { return s.mux.LocalAddr() }
func (s *tcpSession) Network() string                 { return "tcp" }
func (s *tcpSession) Context() context.Context        { return s.ctx }

// sessionErr turns a yamux error into the session's cause once the session
// has ended, so both transports report the same ApplicationError.
func (s *tcpSession) sessionErr(err error) error {
	if err == nil {
		return nil
	}
	if s.mux.IsClosed() {
		<-s.ctx.Done()
		return context.Cause(s.ctx)
	}
	return err
}

func (s *tcpSession) OpenStream(ctx context.Context) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.ctx.Err() != nil {
		return nil, context.Cause(s.ctx)
	}
	st, err := s.mux.OpenStream()
	if err != nil {
		return nil, s.sessionErr(err)
	}
	return newTCPStream(s, st), nil
}

func (s *tcpSession) AcceptStream(ctx context.Context) (Stream, error) {
	st, err := s.mux.AcceptStreamWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.sessionErr(err)
	}
	return newTCPStream(s, st), nil
}

// CloseWithError writes the goaway message, gives the other side up to
// closeGrace to read it and hang up, then closes the connection and waits
// for the session's goroutines.
func (s *tcpSession) CloseWithError(code ErrorCode, reason string) error {
	s.once.Do(func() {
		if len(reason) > maxReason {
			reason = reason[:maxReason]
		}
		s.cancel(&ApplicationError{Code: code, Reason: reason})
		msg := make([]byte, 11, 11+len(reason))
		msg[0] = ctlGoaway
		binary.BigEndian.PutUint64(msg[1:], uint64(code))
		binary.BigEndian.PutUint16(msg[9:], uint16(len(reason)))
		msg = append(msg, reason...)
		_ = s.ctl.SetWriteDeadline(time.Now().Add(closeGrace))
		if _, err := s.ctl.Write(msg); err == nil {
			t := time.NewTimer(closeGrace)
			select {
			case <-s.mux.CloseChan():
			case <-t.C:
			}
			t.Stop()
		}
		_ = s.mux.Close()
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}
