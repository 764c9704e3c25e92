package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/dartsync/dartsync/internal/identity"
)

// The control stream is the first yamux stream of a TCP session, opened by
// the client. The server writes ctlReady once it has accepted the client.
// Afterwards either side writes messages on it: ctlCredit (see
// streamCredit), ctlStop (stream ID uint32, code uint32: CancelRead of that
// stream) and at most one ctlGoaway (code uint64, reason length uint16,
// reason) before closing the session.
const (
	ctlReady  = 0x52 // 'R'
	ctlGoaway = 0x47 // 'G'
	ctlStop   = 0x53 // 'S'
	ctlCredit = 0x43 // 'C'

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
	wg     sync.WaitGroup // the control reader
	once   sync.Once

	credit *streamCredit

	mu      sync.Mutex
	streams map[uint32]*tcpStream // until both directions are done, for ctlStop
}

func (s *tcpSession) newStream(st *yamux.Stream, incoming bool) *tcpStream {
	t := &tcpStream{s: s, st: st, incoming: incoming}
	t.ctx, t.cancel = context.WithCancel(s.ctx)
	s.mu.Lock()
	s.streams[st.StreamID()] = t
	s.mu.Unlock()
	return t
}

// maybeForget drops t from the stream table once both directions are done.
func (s *tcpSession) maybeForget(t *tcpStream) {
	t.mu.Lock()
	done := t.readDone && t.wDone && !t.forgotten
	t.forgotten = t.forgotten || done
	t.mu.Unlock()
	if !done {
		return
	}
	s.mu.Lock()
	delete(s.streams, t.st.StreamID())
	s.mu.Unlock()
	if t.incoming {
		if n := s.credit.finished(); n > 0 {
			s.sendCredit(n)
		}
	}
}

// sendStop tells the other side that stream id is no longer read. yamux
// writes each message whole (one stream's writes are serialised).
func (s *tcpSession) sendStop(id uint32, code StreamCode) {
	var msg [9]byte
	msg[0] = ctlStop
	binary.BigEndian.PutUint32(msg[1:], id)
	binary.BigEndian.PutUint32(msg[5:], uint32(code))
	_, _ = s.ctl.Write(msg[:])
}

func newTCPSession(mux *yamux.Session, ctl *yamux.Stream, remote identity.DeviceID, opt Options) *tcpSession {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &tcpSession{mux: mux, ctl: ctl, remote: remote, opt: opt, ctx: ctx, cancel: cancel,
		streams: make(map[uint32]*tcpStream), credit: newStreamCredit(opt.quicConfig().MaxIncomingStreams)}
	s.sendCredit(uint32(s.credit.limit))
	s.wg.Go(s.readControl)
	return s
}

// readControl serves the other side's control messages until its goaway
// message or the end of the session, and ends the session's context with
// the cause.
func (s *tcpSession) readControl() {
	defer func() {
		<-s.mux.CloseChan()
		s.cancel(ErrConnLost)
	}()
	var msg [11]byte
	for {
		if _, err := io.ReadFull(s.ctl, msg[:1]); err != nil {
			return
		}
		switch msg[0] {
		case ctlStop:
			if _, err := io.ReadFull(s.ctl, msg[1:9]); err != nil {
				return
			}
			s.mu.Lock()
			t := s.streams[binary.BigEndian.Uint32(msg[1:])]
			s.mu.Unlock()
			if t != nil {
				t.stopped(StreamCode(binary.BigEndian.Uint32(msg[5:])))
			}
		case ctlCredit:
			if _, err := io.ReadFull(s.ctl, msg[1:5]); err != nil {
				return
			}
			s.credit.granted(binary.BigEndian.Uint32(msg[1:]))
		case ctlGoaway:
			if _, err := io.ReadFull(s.ctl, msg[1:11]); err != nil {
				return
			}
			reason := make([]byte, min(binary.BigEndian.Uint16(msg[9:]), maxReason))
			_, _ = io.ReadFull(s.ctl, reason)
			s.cancel(&ApplicationError{Code: ErrorCode(binary.BigEndian.Uint64(msg[1:])), Reason: string(reason), Remote: true})
			_ = s.mux.Close()
			return
		default: // a broken peer: end the session
			s.cancel(fmt.Errorf("%w: control message %#x", ErrProtocol, msg[0]))
			_ = s.mux.Close()
			return
		}
	}
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
	if err := s.credit.take(ctx, s.ctx); err != nil {
		return nil, err
	}
	st, err := s.mux.OpenStream()
	if err != nil {
		return nil, s.sessionErr(err)
	}
	return s.newStream(st, false), nil
}

func (s *tcpSession) AcceptStream(ctx context.Context) (Stream, error) {
	for {
		st, err := s.mux.AcceptStreamWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, s.sessionErr(err)
		}
		if s.credit.admit() {
			return s.newStream(st, true), nil
		}
		s.opt.log().Debug("transport: stream beyond credit", "device", s.remote.Short())
		t := s.newStream(st, false)
		t.CancelRead(codeNoCredit)
		t.CancelWrite(codeNoCredit)
	}
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
	})
	s.wg.Wait()
	return nil
}
