package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/dartsync/dartsync/internal/identity"
)

// NodeListener is a node's listening side in a Mode: QUIC on a UDP port
// and TLS-on-TCP on the same port number (ModeAuto), or only one of them.
// AcceptSession returns the sessions of both; DialSession dials with the
// node's Dialer (QUIC from the listening UDP socket). Close ends every
// session accepted or dialed through it.
type NodeListener struct {
	q    *Listener    // nil in ModeTCP
	t    *TCPListener // nil in ModeQUIC
	dial *Dialer

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept pumps
	ready  chan nodeAccept
	once   sync.Once
	err    error
}

type nodeAccept struct {
	s   Session
	err error
}

// listenTries bounds the attempts to find a port number free on both UDP
// and TCP when port 0 is asked.
const listenTries = 16

// ListenNode listens on addr ("host:port"; port 0 picks a port number
// free on both UDP and TCP) in mode m.
func ListenNode(addr string, id *identity.Identity, opt Options, m Mode) (*NodeListener, error) {
	m = m.norm()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	l := &NodeListener{dial: NewDialer(id, opt, m), ready: make(chan nodeAccept)}
	for try := 0; ; try++ {
		if m != ModeTCP {
			if l.q, err = Listen(addr, id, opt); err != nil {
				return nil, err
			}
			if m == ModeAuto {
				port = strconv.Itoa(l.q.Addr().(*net.UDPAddr).Port)
			}
		}
		if m != ModeQUIC {
			l.t, err = ListenTCP(net.JoinHostPort(host, port), id, opt)
			if err != nil {
				if l.q != nil {
					_ = l.q.Close()
				}
				if port0(addr) && m == ModeAuto && try < listenTries {
					continue // the UDP port's number is taken on TCP: another
				}
				return nil, err
			}
		}
		break
	}
	if l.q != nil {
		q := l.q
		l.dial.quic = func(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
			return q.DialSession(ctx, addr, expect)
		}
	}
	if l.t != nil {
		l.dial.tcp = l.t.DialSession
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	for _, sl := range l.listeners() {
		l.wg.Go(func() { l.pump(sl) })
	}
	return l, nil
}

func port0(addr string) bool {
	_, p, err := net.SplitHostPort(addr)
	return err == nil && (p == "0" || p == "")
}

func (l *NodeListener) listeners() []SessionListener {
	var ls []SessionListener
	if l.q != nil {
		ls = append(ls, l.q)
	}
	if l.t != nil {
		ls = append(ls, l.t)
	}
	return ls
}

// pump hands sl's sessions to AcceptSession until Close, or sl fails.
func (l *NodeListener) pump(sl SessionListener) {
	for {
		s, err := sl.AcceptSession(l.ctx)
		if err != nil && l.ctx.Err() != nil {
			return
		}
		select {
		case l.ready <- nodeAccept{s, err}:
			if err != nil {
				return
			}
		case <-l.ctx.Done():
			if s != nil {
				_ = s.CloseWithError(0, "shutting down")
			}
			return
		}
	}
}

// AcceptSession waits for the next session over either transport. After
// Close it returns an error wrapping ErrClosed; when ctx ends, ctx's error.
func (l *NodeListener) AcceptSession(ctx context.Context) (Session, error) {
	select {
	case r := <-l.ready:
		return r.s, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, fmt.Errorf("transport: accept: %w", ErrClosed)
	}
}

// DialSession dials addr with the node's Dialer (its mode and its memory
// of which transport worked where).
func (l *NodeListener) DialSession(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
	if l.ctx.Err() != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, ErrClosed)
	}
	return l.dial.Dial(ctx, addr, expect)
}

// Dialer returns the node's Dialer.
func (l *NodeListener) Dialer() *Dialer { return l.dial }

// Addr is the UDP address (ModeTCP: the TCP address); both have the same
// port number.
func (l *NodeListener) Addr() net.Addr {
	if l.q != nil {
		return l.q.Addr()
	}
	return l.t.Addr()
}

// Networks lists the transports the node listens on ("quic", "tcp").
func (l *NodeListener) Networks() []string {
	var ns []string
	if l.q != nil {
		ns = append(ns, "quic")
	}
	if l.t != nil {
		ns = append(ns, "tcp")
	}
	return ns
}

// Close stops accepting and closes both listeners and every session
// accepted or dialed through them. Safe to call more than once.
func (l *NodeListener) Close() error {
	l.once.Do(func() {
		l.cancel()
		var errs []error
		for _, sl := range l.listeners() {
			if err := sl.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		l.wg.Wait()
		l.err = errors.Join(errs...)
	})
	return l.err
}
