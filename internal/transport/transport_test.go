package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"go.uber.org/goleak"

	"github.com/dartsync/dartsync/internal/identity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newID(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func listen(t testing.TB, id *identity.Identity) *Listener {
	t.Helper()
	l, err := Listen("127.0.0.1:0", id, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type acceptResult struct {
	c   *Conn
	err error
}

func acceptAsync(ctx context.Context, l *Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := l.Accept(ctx)
		ch <- acceptResult{c, err}
	}()
	return ch
}

// echo serves one stream on c: reads everything and writes it back.
func echoOnce(ctx context.Context, c *Conn) error {
	s, err := c.AcceptStream(ctx)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if _, err := s.Write(data); err != nil {
		return err
	}
	return s.Close()
}

func TestHandshakeBothWaysAndStream(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	l := listen(t, srvID)
	if port := l.Addr().(*net.UDPAddr).Port; port == 0 {
		t.Fatal("Addr() has port 0")
	}
	port := strconv.Itoa(l.Addr().(*net.UDPAddr).Port)
	for _, tc := range []struct {
		addr string
		pin  bool
	}{{"127.0.0.1:" + port, false}, {"127.0.0.1:" + port, true}, {"localhost:" + port, true}} {
		acc := acceptAsync(ctx, l)
		var expect *identity.DeviceID
		if tc.pin {
			expect = &srvID.ID
		}
		cc, err := Dial(ctx, tc.addr, cliID, expect, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if cc.Remote != srvID.ID {
			t.Fatalf("client sees %s, want %s", cc.Remote, srvID.ID)
		}
		r := <-acc
		if r.err != nil {
			t.Fatal(r.err)
		}
		sc := r.c
		if sc.Remote != cliID.ID {
			t.Fatalf("server sees %s, want %s", sc.Remote, cliID.ID)
		}
		echoErr := make(chan error, 1)
		go func() { echoErr <- echoOnce(ctx, sc) }()
		s, err := cc.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("hello dartsync")
		if _, err := s.Write(msg); err != nil {
			t.Fatal(err)
		}
		s.Close()
		got, err := io.ReadAll(s)
		if err != nil || string(got) != string(msg) {
			t.Fatalf("echo = %q, %v", got, err)
		}
		if err := <-echoErr; err != nil {
			t.Fatal(err)
		}
		cc.Close()
		sc.Close()
	}
}

func TestDialRefusesWrongDevice(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID, other := newID(t), newID(t), newID(t)
	l := listen(t, srvID)
	_, err := Dial(ctx, l.Addr().String(), cliID, &other.ID, Options{})
	t.Logf("error: %v", err)
	if !errors.Is(err, ErrWrongDevice) {
		t.Fatalf("err = %v, want ErrWrongDevice", err)
	}
	for _, want := range []string{other.ID.String(), srvID.ID.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	assertStillServes(ctx, t, l, srvID)
}

// rawTransport is a bare quic-go transport on a loopback socket, closed when
// the test ends, for peers that misbehave in ways this package never does.
func rawTransport(t testing.TB) *quic.Transport {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() {
		tr.Close()
		udp.Close()
	})
	return tr
}

// rawDial dials with a hand-made TLS config to exercise what Dial never sends.
func rawDial(ctx context.Context, t *testing.T, addr net.Addr, conf *tls.Config) error {
	c, err := rawTransport(t).Dial(ctx, addr, conf, &quic.Config{HandshakeIdleTimeout: 2 * time.Second})
	if err != nil {
		return err
	}
	// The client may finish its side before the server rejects the
	// certificate; the rejection then arrives as the connection's close.
	select {
	case <-c.Context().Done():
		return context.Cause(c.Context())
	case <-time.After(5 * time.Second):
		c.CloseWithError(0, "")
		return nil
	}
}

func TestListenerRefusesBadClients(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	l := listen(t, srvID)
	ecCert := ecdsaCert(t)
	tests := []struct {
		name    string
		conf    *tls.Config
		wantMsg string
	}{
		{"wrong ALPN", &tls.Config{Certificates: []tls.Certificate{cliID.Cert}, NextProtos: []string{"other/1"}, InsecureSkipVerify: true}, "no application protocol"},
		{"no client certificate", &tls.Config{NextProtos: []string{ALPN}, InsecureSkipVerify: true}, "certificate"},
		{"ECDSA client certificate", &tls.Config{Certificates: []tls.Certificate{ecCert}, NextProtos: []string{ALPN}, InsecureSkipVerify: true}, "bad certificate"},
	}
	acc := acceptAsync(ctx, l)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rawDial(ctx, t, l.Addr(), tc.conf)
			t.Logf("error: %v", err)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantMsg)
			}
		})
	}
	select {
	case r := <-acc:
		t.Fatalf("listener accepted a bad client: %v %v", r.c, r.err)
	default:
	}
	// The pending Accept gets the next good client.
	cc, err := Dial(ctx, l.Addr().String(), cliID, &srvID.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	r := <-acc
	if r.err != nil || r.c.Remote != cliID.ID {
		t.Fatalf("accept after bad clients: %v", r.err)
	}
	r.c.Close()
}

func TestDialRefusesBadServers(t *testing.T) {
	ctx := testCtx(t)
	cliID := newID(t)
	tests := []struct {
		name    string
		conf    *tls.Config
		wantErr error  // checked with errors.Is when set
		wantMsg string // checked as substring when set
	}{
		{"server with ECDSA certificate", &tls.Config{Certificates: []tls.Certificate{ecdsaCert(t)}, NextProtos: []string{ALPN}, ClientAuth: tls.RequireAnyClientCert}, ErrBadPeerCert, ""},
		{"server with other ALPN", &tls.Config{Certificates: []tls.Certificate{newID(t).Cert}, NextProtos: []string{"other/1"}, ClientAuth: tls.RequireAnyClientCert}, nil, "no application protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := rawTransport(t)
			ql, err := tr.Listen(tc.conf, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ql.Close()
			_, err = Dial(ctx, tr.Conn.LocalAddr().String(), cliID, nil, Options{})
			t.Logf("error: %v", err)
			if err == nil {
				t.Fatal("dial succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantMsg)
			}
		})
	}
}

func TestListenerSurvivesGarbage(t *testing.T) {
	ctx := testCtx(t)
	srvID := newID(t)
	l := listen(t, srvID)
	u, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	buf := make([]byte, 1500)
	for i := range 200 {
		n := 1 + i*7%len(buf)
		rand.Read(buf[:n])
		if i%3 == 0 {
			buf[0] |= 0xc0 // looks like a QUIC long header
		}
		if _, err := u.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	assertStillServes(ctx, t, l, srvID)
}

func assertStillServes(ctx context.Context, t *testing.T, l *Listener, srvID *identity.Identity) {
	t.Helper()
	cli := newID(t)
	acc := acceptAsync(ctx, l)
	cc, err := Dial(ctx, l.Addr().String(), cli, &srvID.ID, Options{})
	if err != nil {
		t.Fatalf("listener no longer serves: %v", err)
	}
	defer cc.Close()
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.c.Remote != cli.ID {
		t.Fatalf("server sees %s, want %s", r.c.Remote, cli.ID)
	}
	r.c.Close()
}

func TestAcceptAfterCloseAndCancel(t *testing.T) {
	srvID := newID(t)
	l, err := Listen("127.0.0.1:0", srvID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	acc := acceptAsync(ctx, l)
	cancel()
	if r := <-acc; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Accept after cancel: %v", r.err)
	}
	acc = acceptAsync(context.Background(), l)
	l.Close()
	if r := <-acc; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", r.err)
	}
}

func TestDialNoServerHonoursContext(t *testing.T) {
	// A bound UDP socket that never answers.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, pc.LocalAddr().String(), newID(t), nil, Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name      string
		opt       Options
		keep      time.Duration
		idle      time.Duration
		streamMax uint64
		connMax   uint64
	}{
		{"zero", Options{}, DefaultKeepAlive, DefaultIdleTimeout, DefaultStreamWindow, DefaultConnWindow},
		{"explicit", Options{KeepAlive: time.Second, IdleTimeout: 3 * time.Second, StreamWindow: 1 << 20, ConnWindow: 4 << 20}, time.Second, 3 * time.Second, 1 << 20, 4 << 20},
		{"no keep-alive, conn below stream", Options{KeepAlive: -1, StreamWindow: 8 << 20, ConnWindow: 1 << 20}, 0, DefaultIdleTimeout, 8 << 20, 8 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.opt.quicConfig()
			if c.KeepAlivePeriod != tc.keep || c.MaxIdleTimeout != tc.idle ||
				c.MaxStreamReceiveWindow != tc.streamMax || c.MaxConnectionReceiveWindow != tc.connMax ||
				c.InitialStreamReceiveWindow != tc.streamMax/2 || c.MaxIncomingStreams != DefaultMaxIncomingStreams {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func ecdsaCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ecdsa"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
