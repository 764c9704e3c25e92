package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
)

// ErrorCode is an application error code closing a whole Session; the other
// side reads it from an ApplicationError (AsApplicationError).
type ErrorCode uint64

// StreamCode is an application error code cancelling one direction of a
// Stream; the other side reads it from a StreamError (AsStreamError).
type StreamCode uint64

// Session is an authenticated connection to one device carrying any number
// of Streams, over QUIC (Conn.Session) or over TLS on TCP (DialTCP,
// TCPListener). Its methods are safe for concurrent use.
type Session interface {
	// OpenStream opens a new stream, waiting while the other side's stream
	// limit is reached (QUIC) or until ctx ends.
	OpenStream(ctx context.Context) (Stream, error)
	// AcceptStream waits for the next stream the other side opens.
	AcceptStream(ctx context.Context) (Stream, error)
	// RemoteDevice is the other side's device ID, known before the session
	// is returned by a dial or an accept.
	RemoteDevice() identity.DeviceID
	RemoteAddr() net.Addr
	LocalAddr() net.Addr
	// Network is "quic" or "tcp": what a status line or log reports.
	Network() string
	// Context ends when the session ends; context.Cause says why (an
	// ApplicationError when either side closed it with CloseWithError).
	Context() context.Context
	// CloseWithError ends the session and every stream; the other side sees
	// an ApplicationError with code and reason (Remote set). It waits until
	// the session's goroutines and socket are released.
	CloseWithError(code ErrorCode, reason string) error
}

// Stream is one bidirectional, ordered byte stream of a Session: in
// DartSync one request and its response. Read and Write may run in two
// goroutines at once; neither may run concurrently with itself. A stream's
// resources are freed when both directions are done: the write side by
// Close or CancelWrite, the read side by reading to io.EOF or an error, or
// by CancelRead.
type Stream interface {
	io.Reader
	io.Writer
	// Close ends the write direction in order: the other side reads io.EOF
	// after the data. It does not end the read direction.
	Close() error
	// CancelWrite abandons the write direction; the other side's Read fails
	// with a StreamError carrying code (Remote set). Data not yet read by
	// the other side may be lost.
	CancelWrite(code StreamCode)
	// CancelRead abandons the read direction: pending and later Reads fail,
	// and the other side's Write fails with a StreamError carrying code
	// (Remote set) once the cancellation reaches it.
	CancelRead(code StreamCode)
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// Context ends when the write direction is done: Close or CancelWrite
	// was called, the other side cancelled reading, or the session ended.
	Context() context.Context
}

// ApplicationError is why a Session ended when one side closed it with
// CloseWithError: Remote is true on the side that did not call it.
type ApplicationError struct {
	Code   ErrorCode
	Reason string
	Remote bool
}

func (e *ApplicationError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	return fmt.Sprintf("session closed by %s side: code %d: %s", who, e.Code, e.Reason)
}

// StreamError is why a Stream operation failed when one side cancelled a
// direction (CancelRead, CancelWrite): Remote is true on the side that did
// not call it.
type StreamError struct {
	Code   StreamCode
	Remote bool
}

func (e *StreamError) Error() string {
	who := "local"
	if e.Remote {
		who = "remote"
	}
	return fmt.Sprintf("stream cancelled by %s side: code %d", who, e.Code)
}

// AsApplicationError finds an ApplicationError in err's chain, or converts
// quic-go's (so callers need not know which transport carried err).
func AsApplicationError(err error) (*ApplicationError, bool) {
	var ae *ApplicationError
	if errors.As(err, &ae) {
		return ae, true
	}
	var qe *quic.ApplicationError
	if errors.As(err, &qe) {
		return &ApplicationError{Code: ErrorCode(qe.ErrorCode), Reason: qe.ErrorMessage, Remote: qe.Remote}, true
	}
	return nil, false
}

// AsStreamError finds a StreamError in err's chain, or converts quic-go's.
func AsStreamError(err error) (*StreamError, bool) {
	var se *StreamError
	if errors.As(err, &se) {
		return se, true
	}
	var qe *quic.StreamError
	if errors.As(err, &qe) {
		return &StreamError{Code: StreamCode(qe.ErrorCode), Remote: qe.Remote}, true
	}
	return nil, false
}

// Session returns c as a Session. The Conn stays usable.
func (c *Conn) Session() Session { return quicSession{c} }

// quicSession adapts a Conn (quic-go) to Session.
type quicSession struct{ c *Conn }

func (s quicSession) OpenStream(ctx context.Context) (Stream, error) {
	st, err := s.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return quicStream{st}, nil
}

func (s quicSession) AcceptStream(ctx context.Context) (Stream, error) {
	st, err := s.c.Conn.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return quicStream{st}, nil
}

func (s quicSession) RemoteDevice() identity.DeviceID { return s.c.Remote }
func (s quicSession) RemoteAddr() net.Addr            { return s.c.RemoteAddr() }
func (s quicSession) LocalAddr() net.Addr             { return s.c.LocalAddr() }
func (s quicSession) Network() string                 { return "quic" }
func (s quicSession) Context() context.Context        { return s.c.Context() }

func (s quicSession) CloseWithError(code ErrorCode, reason string) error {
	return s.c.CloseWithError(quic.ApplicationErrorCode(code), reason)
}

// quicStream adapts a quic-go stream to Stream.
type quicStream struct{ *quic.Stream }

func (s quicStream) CancelWrite(code StreamCode) { s.Stream.CancelWrite(quic.StreamErrorCode(code)) }
func (s quicStream) CancelRead(code StreamCode)  { s.Stream.CancelRead(quic.StreamErrorCode(code)) }

// SessionListener accepts Sessions and dials from the same node; Close ends
// every session accepted or dialed through it. Listener (QUIC, through
// Sessions) and TCPListener implement it.
type SessionListener interface {
	AcceptSession(ctx context.Context) (Session, error)
	DialSession(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error)
	Addr() net.Addr
	Close() error
}

// Sessions returns l as a SessionListener (l itself: Listener implements
// it).
func (l *Listener) Sessions() SessionListener { return l }

// AcceptSession is Accept returning a Session.
func (l *Listener) AcceptSession(ctx context.Context) (Session, error) {
	c, err := l.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return c.Session(), nil
}

// DialSession is Dial returning a Session.
func (l *Listener) DialSession(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
	c, err := l.Dial(ctx, addr, expect)
	if err != nil {
		return nil, err
	}
	return c.Session(), nil
}

// IsConnLost reports whether err says that a session ended without either
// side closing it: QUIC's idle timeout, or a TCP session's ErrConnLost
// (broken connection, unanswered keep-alives).
func IsConnLost(err error) bool {
	var ie *quic.IdleTimeoutError
	return errors.As(err, &ie) || errors.Is(err, ErrConnLost)
}
