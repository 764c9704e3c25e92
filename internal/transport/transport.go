package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
)

// Conn is an established connection to the device Remote (the hash of the key
// in its certificate). All quic.Conn methods are available.
type Conn struct {
	*quic.Conn
	Remote identity.DeviceID

	released <-chan struct{} // closed when the connection's resources are freed; nil: nothing to wait for
}

// CloseWithError closes the connection with an application error code and
// message for the peer (quic.Conn.CloseWithError), then waits until the
// connection's resources (for a Dial connection: its UDP socket and quic-go's
// goroutines) are released.
func (c *Conn) CloseWithError(code quic.ApplicationErrorCode, desc string) error {
	err := c.Conn.CloseWithError(code, desc)
	if c.released != nil {
		<-c.released
	}
	return err
}

// Close is CloseWithError(0, "").
func (c *Conn) Close() error { return c.CloseWithError(0, "") }

// endpoint is one UDP socket with its quic-go transport, which answers
// packets of connections it does not know with a stateless reset made with
// the identity's ResetKey.
type endpoint struct {
	udp *net.UDPConn
	tr  *quic.Transport
}

func newEndpoint(laddr *net.UDPAddr, id *identity.Identity) (*endpoint, error) {
	key, err := ResetKey(id)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	return &endpoint{udp: udp, tr: &quic.Transport{Conn: udp, StatelessResetKey: key}}, nil
}

// close terminates every connection still on the endpoint (without notifying
// the peers), stops quic-go's goroutines and closes the socket.
func (e *endpoint) close() error {
	err := e.tr.Close()
	if cerr := e.udp.Close(); err == nil {
		err = cerr
	}
	return err
}

// dial runs a client handshake on e and identifies the server.
func (e *endpoint) dial(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (*quic.Conn, identity.DeviceID, error) {
	if id == nil {
		return nil, identity.DeviceID{}, errors.New("nil identity")
	}
	raddr, err := resolveUDP(ctx, addr)
	if err != nil {
		return nil, identity.DeviceID{}, err
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
	qc, err := e.tr.Dial(ctx, raddr, clientTLS(id, expect, fail), opt.quicConfig())
	if err != nil {
		mu.Lock()
		vErr := verifyErr
		mu.Unlock()
		if vErr != nil { // our own refusal, intact (quic-go keeps only its text)
			err = vErr
		}
		return nil, identity.DeviceID{}, err
	}
	remote, err := remoteID(qc.ConnectionState().TLS)
	if err == nil && expect != nil && remote != *expect {
		err = wrongDevice(*expect, remote)
	}
	if err != nil { // VerifyConnection has checked this already; be safe anyway
		_ = qc.CloseWithError(1, "bad certificate")
		return nil, identity.DeviceID{}, err
	}
	return qc, remote, nil
}

// Dial connects to the node at the UDP address addr ("host:port") from a new
// UDP socket of its own. With expect != nil the handshake fails with
// ErrWrongDevice unless the server's device ID equals *expect. The socket is
// released when the connection ends; Close waits for that.
func Dial(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (*Conn, error) {
	e, err := newEndpoint(&net.UDPAddr{}, id)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	qc, remote, err := e.dial(ctx, addr, id, expect, opt)
	if err != nil {
		_ = e.close()
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	released := make(chan struct{})
	context.AfterFunc(qc.Context(), func() {
		defer close(released)
		if err := e.close(); err != nil {
			opt.log().Debug("transport: releasing socket", "err", err)
		}
	})
	return &Conn{Conn: qc, Remote: remote, released: released}, nil
}

// resolveUDP resolves "host:port", honouring ctx during name lookup.
func resolveUDP(ctx context.Context, addr string) (*net.UDPAddr, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, "udp", portStr)
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = "localhost"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address for %q", host)
	}
	// Prefer IPv4, which every DartSync listener bound to a wildcard serves.
	ip := ips[0]
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a
			break
		}
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip.Unmap(), uint16(port))), nil
}

func wrongDevice(expect, got identity.DeviceID) error {
	return fmt.Errorf("%w: expected %s, got %s", ErrWrongDevice, expect, got)
}
