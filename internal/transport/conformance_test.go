package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// The conformance suite: every TestSession*/TestStream* test runs against
// each implementation of Session through one fixture, and asserts the same
// observable behaviour.

// impl is one implementation of the transport, as the suite drives it.
type impl struct {
	name   string
	listen func(addr string, id *identity.Identity, opt Options) (SessionListener, error)
	dial   func(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (Session, error)
	// rawDial handshakes with a hand-made client TLS config and returns the
	// handshake's or the connection's first error.
	rawDial func(ctx context.Context, t *testing.T, addr net.Addr, conf *tls.Config) error
}

var impls = []impl{
	{
		name: "quic",
		listen: func(addr string, id *identity.Identity, opt Options) (SessionListener, error) {
			l, err := Listen(addr, id, opt)
			if err != nil {
				return nil, err
			}
			return l.Sessions(), nil
		},
		dial: func(ctx context.Context, addr string, id *identity.Identity, expect *identity.DeviceID, opt Options) (Session, error) {
			c, err := Dial(ctx, addr, id, expect, opt)
			if err != nil {
				return nil, err
			}
			return c.Session(), nil
		},
		rawDial: rawDial,
	},
	{
		name: "tcp",
		listen: func(addr string, id *identity.Identity, opt Options) (SessionListener, error) {
			return ListenTCP(addr, id, opt)
		},
		dial:    DialTCP,
		rawDial: rawDialTCP,
	},
}

// rawDialTCP is rawDial over TLS on TCP: the client finishes its handshake
// before the server judges its certificate, so a refusal arrives as the
// first read's error.
func rawDialTCP(ctx context.Context, t *testing.T, addr net.Addr, conf *tls.Config) error {
	var d tls.Dialer
	d.Config = conf
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err
}

// forEach runs f once per implementation, as a subtest named after it.
func forEach(t *testing.T, f func(t *testing.T, im impl)) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) { f(t, im) })
	}
}

// pair is a connected client and server session of one implementation.
type pair struct {
	l        SessionListener
	cli, srv Session
	cliID    *identity.Identity
	srvID    *identity.Identity
}

func newPair(t *testing.T, im impl, opt Options) pair {
	t.Helper()
	ctx := testCtx(t)
	p := pair{cliID: newID(t), srvID: newID(t)}
	l, err := im.listen("127.0.0.1:0", p.srvID, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p.l = l
	type res struct {
		s   Session
		err error
	}
	acc := make(chan res, 1)
	go func() {
		s, err := l.AcceptSession(ctx)
		acc <- res{s, err}
	}()
	cli, err := im.dial(ctx, l.Addr().String(), p.cliID, &p.srvID.ID, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.CloseWithError(0, "") })
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.s.CloseWithError(0, "") })
	p.cli, p.srv = cli, r.s
	return p
}

func TestSessionHandshakeAndEcho(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		if p.cli.RemoteDevice() != p.srvID.ID || p.srv.RemoteDevice() != p.cliID.ID {
			t.Fatalf("remote devices: client sees %s, server sees %s", p.cli.RemoteDevice(), p.srv.RemoteDevice())
		}
		if p.cli.Network() != im.name || p.srv.Network() != im.name {
			t.Fatalf("Network() = %q/%q, want %q", p.cli.Network(), p.srv.Network(), im.name)
		}
		if p.cli.RemoteAddr().String() != p.l.Addr().String() || port(t, p.srv.RemoteAddr()) != port(t, p.cli.LocalAddr()) {
			t.Fatalf("addresses: client %s -> %s, server sees %s, listener %s",
				p.cli.LocalAddr(), p.cli.RemoteAddr(), p.srv.RemoteAddr(), p.l.Addr())
		}
		echoErr := make(chan error, 1)
		go func() { echoErr <- echoSession(ctx, p.srv, 1) }()
		roundTripSession(ctx, t, p.cli, []byte("hello dartsync"))
		if err := <-echoErr; err != nil {
			t.Fatal(err)
		}
	})
}

func port(t *testing.T, a net.Addr) string {
	t.Helper()
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// echoSession serves n streams: each is read to its end and written back.
func echoSession(ctx context.Context, s Session, n int) error {
	errs := make(chan error, n)
	for range n {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return err
		}
		go func() {
			data, err := io.ReadAll(st)
			if err == nil {
				_, err = st.Write(data)
			}
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func roundTripSession(ctx context.Context, t *testing.T, s Session, msg []byte) {
	t.Helper()
	st, err := s.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(st)
	if err != nil || string(got) != string(msg) {
		t.Fatalf("echo = %d bytes, %v; want %d bytes", len(got), err, len(msg))
	}
}

func TestSessionManyConcurrentStreams(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		const n = 64
		echoErr := make(chan error, 1)
		go func() { echoErr <- echoSession(ctx, p.srv, n) }()
		done := make(chan struct{}, n)
		for i := range n {
			go func() {
				defer func() { done <- struct{}{} }()
				msg := []byte(strings.Repeat(string(rune('a'+i%26)), 1000*i+1)) // up to 64 KB, across frames
				roundTripSession(ctx, t, p.cli, msg)
			}()
		}
		for range n {
			<-done
		}
		if err := <-echoErr; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSessionLargeStream(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		echoErr := make(chan error, 1)
		go func() { echoErr <- echoSession(ctx, p.srv, 1) }()
		msg := make([]byte, 3<<20+17) // several windows and frames
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		roundTripSession(ctx, t, p.cli, msg)
		if err := <-echoErr; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSessionDialRefusesWrongDevice(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		srvID, other := newID(t), newID(t)
		l, err := im.listen("127.0.0.1:0", srvID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, err = im.dial(ctx, l.Addr().String(), newID(t), &other.ID, Options{})
		if !errors.Is(err, ErrWrongDevice) {
			t.Fatalf("err = %v, want ErrWrongDevice", err)
		}
		for _, want := range []string{other.ID.String(), srvID.ID.String()} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	})
}

func TestSessionListenerRefusesBadClients(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		srvID, cliID := newID(t), newID(t)
		l, err := im.listen("127.0.0.1:0", srvID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		tests := []struct {
			name    string
			conf    *tls.Config
			wantMsg string
		}{
			{"wrong ALPN", &tls.Config{Certificates: []tls.Certificate{cliID.Cert}, NextProtos: []string{"other/1"}, InsecureSkipVerify: true}, "no application protocol"},
			{"no client certificate", &tls.Config{NextProtos: []string{ALPN}, InsecureSkipVerify: true}, "certificate"},
			{"ECDSA client certificate", &tls.Config{Certificates: []tls.Certificate{ecdsaCert(t)}, NextProtos: []string{ALPN}, InsecureSkipVerify: true}, "bad certificate"},
			{"TLS 1.2", &tls.Config{Certificates: []tls.Certificate{cliID.Cert}, NextProtos: []string{ALPN}, InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}, "version"},
		}
		accepted := make(chan Session, 1)
		go func() {
			s, err := l.AcceptSession(ctx)
			if err == nil {
				accepted <- s
			}
			close(accepted)
		}()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := im.rawDial(ctx, t, l.Addr(), tc.conf)
				t.Logf("error: %v", err)
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantMsg)
				}
			})
		}
		select {
		case s := <-accepted:
			t.Fatalf("listener accepted a bad client: %v", s)
		default:
		}
		// The pending accept gets the next good client.
		cli, err := im.dial(ctx, l.Addr().String(), cliID, &srvID.ID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.CloseWithError(0, "")
		s, ok := <-accepted
		if !ok || s.RemoteDevice() != cliID.ID {
			t.Fatalf("accept after bad clients: %v %v", s, ok)
		}
	})
}
