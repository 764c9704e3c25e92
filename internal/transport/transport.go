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

// Conn is an established connection to the device Remote (the hash of the key
// in its certificate). All quic.Conn methods are available; Close is a
// shorthand for CloseWithError(0, "").
type Conn struct {
	*quic.Conn
	Remote identity.DeviceID
}

// Close closes the connection with application error code 0.
func (c *Conn) Close() error { return c.CloseWithError(0, "") }

// Listener accepts connections from any device with an Ed25519 certificate.
type Listener struct {
	ql  *quic.Listener
	log *slog.Logger
}

// Listen listens for QUIC connections on the UDP address addr ("host:port";
// port 0 picks a free port, see Addr).
func Listen(addr string, id *identity.Identity, opt Options) (*Listener, error) {
	if id == nil {
		return nil, errors.New("transport: listen: nil identity")
	}
	ql, err := quic.ListenAddr(addr, serverTLS(id, opt), opt.quicConfig())
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	return &Listener{ql: ql, log: opt.log()}, nil
}

// Accept waits for the next connection whose handshake has completed. A
// connection whose certificate cannot be identified is closed and skipped.
// After Close it returns an error wrapping ErrClosed; when ctx ends, ctx's error.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	for {
		qc, err := l.ql.Accept(ctx)
		if err != nil {
			if errors.Is(err, quic.ErrServerClosed) {
				return nil, fmt.Errorf("transport: accept: %w", ErrClosed)
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("transport: accept: %w", err)
		}
		remote, err := remoteID(qc.ConnectionState().TLS)
		if err != nil { // cannot happen after VerifyConnection; be safe anyway
			l.log.Debug("transport: dropping connection", "remote", qc.RemoteAddr(), "err", err)
			_ = qc.CloseWithError(1, "bad certificate")
			continue
		}
		return &Conn{Conn: qc, Remote: remote}, nil
	}
}

// Addr returns the local UDP address, with the real port when 0 was asked.
func (l *Listener) Addr() net.Addr { return l.ql.Addr() }

// Close stops listening and closes the UDP socket. Connections already
// accepted stay open until closed by their owner or idle.
func (l *Listener) Close() error { return l.ql.Close() }

// Dial connects to the node at the UDP address addr. With expect != nil the
// handshake fails with ErrWrongDevice unless the server's device ID equals
// *expect. The returned Conn owns its UDP socket; Close releases it.
func Dial(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (*Conn, error) {
	if id == nil {
		return nil, errors.New("transport: dial: nil identity")
	}
	var (
		mu        sync.Mutex
		verifyErr error
	)
	fail := func(err error) {
		mu.Lock()
		verifyErr = err
		mu.Unlock()
	}
	qc, err := quic.DialAddr(ctx, addr, clientTLS(id, expect, fail), opt.quicConfig())
	if err != nil {
		mu.Lock()
		vErr := verifyErr
		mu.Unlock()
		if vErr != nil {
			return nil, fmt.Errorf("transport: dial %s: %w", addr, vErr)
		}
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	remote, err := remoteID(qc.ConnectionState().TLS)
	if err == nil && expect != nil && remote != *expect {
		err = fmt.Errorf("%w: expected %s, got %s", ErrWrongDevice, *expect, remote)
	}
	if err != nil { // VerifyConnection already checked this; be safe anyway
		_ = qc.CloseWithError(1, "bad certificate")
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	return &Conn{Conn: qc, Remote: remote}, nil
}
