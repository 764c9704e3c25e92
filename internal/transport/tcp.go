package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/dartsync/dartsync/internal/identity"
)

// minYamuxWindow is yamux's smallest allowed stream window (its initial one).
const minYamuxWindow = 256 << 10

// maxYamuxWindow caps a TCP stream's window whatever StreamWindow says.
// yamux buffers a stream's unread data in a bytes.Buffer that grows by
// doubling and always grants the whole window, so a large window costs an
// allocation, a clear and a copy per doubling of every stream (one stream
// per piece): with 32 MiB windows a 1 GiB transfer spent 30 % of the
// receiver's CPU there (benchmarks/e2e_perf.sh, TRANSPORT=tcp: receiver
// 5.0 s of CPU, 8.7-11.1 s; with 1 MiB windows 4.7-5.1 s; with 256 KiB
// 3.3-3.4 s, 5.6-7.6 s). Streams are many and short, so the connection
// stays full with small windows.
const maxYamuxWindow = 256 << 10

// yamuxConfig maps Options onto yamux: keep-alives always explicit (a ping
// unanswered within the idle timeout ends the session), the stream window
// bounded by StreamWindow. yamux has no connection window and no limit of
// concurrent incoming streams; MaxIncomingStreams bounds the streams opened
// but not yet accepted.
func (o Options) yamuxConfig() *yamux.Config {
	q := o.quicConfig()
	c := yamux.DefaultConfig()
	c.LogOutput = io.Discard
	c.EnableKeepAlive = q.KeepAlivePeriod > 0
	c.KeepAliveInterval = DefaultKeepAlive // must be positive even when disabled
	if q.KeepAlivePeriod > 0 {
		c.KeepAliveInterval = q.KeepAlivePeriod
	}
	c.ConnectionWriteTimeout = q.MaxIdleTimeout
	w := q.MaxStreamReceiveWindow
	w = max(w, minYamuxWindow)
	w = min(w, maxYamuxWindow)
	c.MaxStreamWindowSize = uint32(w)
	c.AcceptBacklog = int(q.MaxIncomingStreams)
	c.StreamOpenTimeout = 2 * q.HandshakeIdleTimeout
	return c
}

// Bounds of a TCPListener, like quic-go's for QUIC handshakes.
const (
	maxTCPHandshakes = 64 // concurrent handshakes; more connections are dropped
	tcpAcceptQueue   = 32 // sessions ready but not yet accepted; more are refused
)

// TCPListener accepts TLS-on-TCP sessions. Handshakes run in the
// background (as QUIC's do), each bounded by the handshake timeout. Close
// ends every session it accepted or dialed.
type TCPListener struct {
	ln     *net.TCPListener
	id     *identity.Identity
	opt    Options
	ready  chan *tcpSession
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and its handshakes

	mu       sync.Mutex
	sessions map[*tcpSession]struct{}
	closed   bool
	once     sync.Once
	err      error
}

// ListenTCP listens on the TCP address addr ("host:port"; port 0 picks a
// free port, see Addr).
func ListenTCP(addr string, id *identity.Identity, opt Options) (*TCPListener, error) {
	if id == nil {
		return nil, errors.New("transport: listen tcp: nil identity")
	}
	laddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen tcp %s: %w", addr, err)
	}
	ln, err := net.ListenTCP("tcp", laddr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen tcp %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &TCPListener{ln: ln, id: id, opt: opt, ready: make(chan *tcpSession, tcpAcceptQueue),
		ctx: ctx, cancel: cancel, sessions: make(map[*tcpSession]struct{})}
	l.wg.Go(l.acceptLoop)
	return l, nil
}

// Addr returns the local TCP address.
func (l *TCPListener) Addr() net.Addr { return l.ln.Addr() }

func (l *TCPListener) acceptLoop() {
	sem := make(chan struct{}, maxTCPHandshakes)
	log := l.opt.log()
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if l.ctx.Err() == nil {
				log.Debug("transport: tcp accept stopped", "err", err)
			}
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			log.Debug("transport: too many tcp handshakes, dropping", "remote", nc.RemoteAddr())
			_ = nc.Close()
			continue
		}
		l.wg.Go(func() {
			defer func() { <-sem }()
			s, err := serverSession(l.ctx, nc, l.id, l.opt)
			if err != nil {
				log.Debug("transport: refused tcp client", "remote", nc.RemoteAddr(), "err", err)
				return
			}
			if !l.track(s) {
				_ = s.CloseWithError(0, "shutting down")
				return
			}
			select {
			case l.ready <- s:
			default:
				_ = s.CloseWithError(0, "accept queue full")
			}
		})
	}
}

// AcceptSession waits for the next client whose handshake has completed.
// After Close it returns an error wrapping ErrClosed; when ctx ends, ctx's
// error.
func (l *TCPListener) AcceptSession(ctx context.Context) (Session, error) {
	select {
	case s := <-l.ready:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, fmt.Errorf("transport: accept tcp: %w", ErrClosed)
	}
}

// DialSession dials addr like DialTCP; the session ends at Close at the
// latest. Unlike QUIC's Listener.Dial it dials from an ephemeral port.
func (l *TCPListener) DialSession(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
	if l.isClosed() {
		return nil, fmt.Errorf("transport: dial tcp %s: %w", addr, ErrClosed)
	}
	s, err := dialTCP(ctx, addr, l.id, expect, l.opt)
	if err != nil {
		return nil, fmt.Errorf("transport: dial tcp %s: %w", addr, err)
	}
	if !l.track(s) {
		_ = s.CloseWithError(0, "shutting down")
		return nil, fmt.Errorf("transport: dial tcp %s: %w", addr, ErrClosed)
	}
	return s, nil
}

func (l *TCPListener) track(s *tcpSession) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.sessions[s] = struct{}{}
	context.AfterFunc(s.ctx, func() {
		l.mu.Lock()
		delete(l.sessions, s)
		l.mu.Unlock()
	})
	return true
}

func (l *TCPListener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close stops accepting, refuses handshakes in progress and closes every
// session accepted (or queued) or dialed through the listener (the peers
// are told, code 0). Safe to call more than once.
func (l *TCPListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.cancel()
		l.err = l.ln.Close()
		l.wg.Wait()
		l.mu.Lock()
		ss := make([]*tcpSession, 0, len(l.sessions))
		for s := range l.sessions {
			ss = append(ss, s)
		}
		l.mu.Unlock()
		var wg sync.WaitGroup
		for _, s := range ss {
			wg.Go(func() { _ = s.CloseWithError(0, "shutting down") })
		}
		wg.Wait()
	})
	return l.err
}

// DialTCP connects to the node at the TCP address addr. With expect != nil
// the handshake fails with ErrWrongDevice unless the server's device ID
// equals *expect.
func DialTCP(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (Session, error) {
	s, err := dialTCP(ctx, addr, id, expect, opt)
	if err != nil {
		return nil, fmt.Errorf("transport: dial tcp %s: %w", addr, err)
	}
	return s, nil
}

func dialTCP(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (*tcpSession, error) {
	if id == nil {
		return nil, errors.New("nil identity")
	}
	hs := opt.quicConfig().HandshakeIdleTimeout
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 2*hs)
	defer cancel()
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var (
		mu        sync.Mutex
		verifyErr error
	)
	cfg := clientTLS(id, expect, func(err error) {
		mu.Lock()
		verifyErr = err
		mu.Unlock()
	})
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(dctx); err != nil {
		_ = nc.Close()
		mu.Lock()
		if verifyErr != nil {
			err = verifyErr
		}
		mu.Unlock()
		return nil, err
	}
	remote, err := remoteID(tc.ConnectionState())
	if err == nil && expect != nil && remote != *expect {
		err = wrongDevice(*expect, remote)
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	mux, err := yamux.Client(&frameConn{Conn: tc}, opt.yamuxConfig())
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	ctl, err := mux.OpenStream()
	if err != nil {
		_ = mux.Close()
		return nil, err
	}
	// The server's ready byte: in TLS 1.3 the client's handshake completes
	// before the server has judged the client's certificate.
	_ = ctl.SetReadDeadline(time.Now().Add(2 * hs))
	var ready [1]byte
	if _, err := io.ReadFull(ctl, ready[:]); err != nil || ready[0] != ctlReady {
		_ = mux.Close()
		return nil, fmt.Errorf("%w: no session from the server (certificate refused?): %v", ErrBadPeerCert, err)
	}
	_ = ctl.SetReadDeadline(time.Time{})
	return newTCPSession(mux, ctl, remote, opt), nil
}

func serverSession(ctx context.Context, nc net.Conn, id *identity.Identity, opt Options) (*tcpSession, error) {
	hs := opt.quicConfig().HandshakeIdleTimeout
	hctx, cancel := context.WithTimeout(ctx, 2*hs)
	defer cancel()
	tc := tls.Server(nc, serverTLS(id, opt))
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	remote, err := remoteID(tc.ConnectionState())
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	mux, err := yamux.Server(&frameConn{Conn: tc}, opt.yamuxConfig())
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	ctl, err := mux.AcceptStreamWithContext(hctx)
	if err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("no control stream: %w", err)
	}
	_ = ctl.SetWriteDeadline(time.Now().Add(2 * hs))
	if _, err := ctl.Write([]byte{ctlReady}); err != nil {
		_ = mux.Close()
		return nil, fmt.Errorf("control stream: %w", err)
	}
	_ = ctl.SetWriteDeadline(time.Time{})
	return newTCPSession(mux, ctl, remote, opt), nil
}
