package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
)

// Listener accepts connections from any device with an Ed25519 certificate,
// and can dial out from the same UDP socket (same source port).
type Listener struct {
	ep  *endpoint
	ql  *quic.Listener
	id  *identity.Identity
	opt Options
	log *slog.Logger

	mu     sync.Mutex
	conns  map[*quic.Conn]struct{} // accepted or dialed, still open
	closed bool
	once   sync.Once
	err    error // result of Close
}

// Listen listens for QUIC connections on the UDP address addr ("host:port";
// port 0 picks a free port, see Addr).
func Listen(addr string, id *identity.Identity, opt Options) (*Listener, error) {
	if id == nil {
		return nil, errors.New("transport: listen: nil identity")
	}
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	ep, err := newEndpoint(laddr, id)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	ql, err := ep.tr.Listen(serverTLS(id, opt), opt.quicConfig())
	if err != nil {
		_ = ep.close()
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	return &Listener{
		ep: ep, ql: ql, id: id, opt: opt, log: opt.log(),
		conns: make(map[*quic.Conn]struct{}),
	}, nil
}

// Accept waits for the next connection whose handshake has completed; its
// Remote is the client's device ID. After Close it returns an error wrapping
// ErrClosed; when ctx ends, ctx's error.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	for {
		qc, err := l.ql.Accept(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			if l.isClosed() || errors.Is(err, quic.ErrServerClosed) {
				return nil, fmt.Errorf("transport: accept: %w", ErrClosed)
			}
			return nil, fmt.Errorf("transport: accept: %w", err)
		}
		remote, err := remoteID(qc.ConnectionState().TLS)
		if err != nil { // VerifyConnection has refused these already; be safe anyway
			l.log.Debug("transport: dropping connection", "remote", qc.RemoteAddr(), "err", err)
			_ = qc.CloseWithError(1, "bad certificate")
			continue
		}
		if !l.track(qc) {
			_ = qc.CloseWithError(0, "shutting down")
			return nil, fmt.Errorf("transport: accept: %w", ErrClosed)
		}
		return &Conn{Conn: qc, Remote: remote}, nil
	}
}

// Dial connects to addr like the package-level Dial, but from the listener's
// own UDP socket, so the other side sees the listening port as source port.
// The connection is closed by Close at the latest.
func (l *Listener) Dial(ctx context.Context, addr string, expect *identity.DeviceID) (*Conn, error) {
	if l.isClosed() {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrClosed)
	}
	qc, remote, err := l.ep.dial(ctx, addr, l.id, expect, l.opt)
	if err != nil {
		if l.isClosed() {
			err = ErrClosed
		}
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	if !l.track(qc) {
		_ = qc.CloseWithError(0, "shutting down")
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrClosed)
	}
	return &Conn{Conn: qc, Remote: remote}, nil
}

// track remembers qc until it ends; false if the listener is closed.
func (l *Listener) track(qc *quic.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[qc] = struct{}{}
	context.AfterFunc(qc.Context(), func() {
		l.mu.Lock()
		delete(l.conns, qc)
		l.mu.Unlock()
	})
	return true
}

func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Addr returns the local UDP address, with the real port when 0 was asked.
func (l *Listener) Addr() net.Addr { return l.ep.udp.LocalAddr() }

// Close stops accepting, closes every connection accepted or dialed through
// the listener (the peers are told, application error code 0), and releases
// the UDP socket. Handshakes in progress are refused. It is safe to call more
// than once.
func (l *Listener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		conns := make([]*quic.Conn, 0, len(l.conns))
		for c := range l.conns {
			conns = append(conns, c)
		}
		l.mu.Unlock()

		err := l.ql.Close()
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() { _ = c.CloseWithError(0, "shutting down") })
		}
		wg.Wait()
		if cerr := l.ep.close(); err == nil {
			err = cerr
		}
		l.err = err
	})
	return l.err
}
