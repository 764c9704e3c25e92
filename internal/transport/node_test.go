package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
)

// acceptOne accepts one session from l in the background.
func acceptOne(ctx context.Context, l SessionListener) <-chan nodeAccept {
	ch := make(chan nodeAccept, 1)
	go func() {
		s, err := l.AcceptSession(ctx)
		ch <- nodeAccept{s, err}
	}()
	return ch
}

func TestNodeListensOnBothWithOnePort(t *testing.T) {
	ctx := testCtx(t)
	srv := newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Networks(); len(got) != 2 {
		t.Fatalf("networks %v, want quic and tcp", got)
	}
	for _, tc := range []struct {
		mode Mode
		want string
	}{{ModeQUIC, "quic"}, {ModeTCP, "tcp"}, {ModeAuto, "quic"}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			acc := acceptOne(ctx, l)
			d := NewDialer(newID(t), Options{}, tc.mode)
			cli, err := d.Dial(ctx, l.Addr().String(), &srv.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.CloseWithError(0, "")
			r := <-acc
			if r.err != nil {
				t.Fatal(r.err)
			}
			defer r.s.CloseWithError(0, "")
			if cli.Network() != tc.want || r.s.Network() != tc.want {
				t.Fatalf("client %s, server %s; want %s", cli.Network(), r.s.Network(), tc.want)
			}
			roundTripSessionPair(ctx, t, cli, r.s)
		})
	}
}

// roundTripSessionPair checks one request and answer between cli and srv.
func roundTripSessionPair(ctx context.Context, t *testing.T, cli, srv Session) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- echoSession(ctx, srv, 1) }()
	roundTripSession(ctx, t, cli, []byte("hello"))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// silentUDP binds a UDP socket that reads and never answers: a QUIC dial to
// it gets no answer, as when UDP is blocked.
func silentUDP(t *testing.T, port int) {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := u.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
}

func TestAutoFallsBackToTCPAndRemembers(t *testing.T) {
	ctx := testCtx(t)
	srv := newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	silentUDP(t, port)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	d := NewDialer(newID(t), Options{}, ModeAuto)
	d.Fallback = 100 * time.Millisecond
	for i := range 2 {
		acc := acceptOne(ctx, l)
		cli, err := d.Dial(ctx, addr, &srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := <-acc
		if r.err != nil {
			t.Fatal(r.err)
		}
		if cli.Network() != "tcp" {
			t.Fatalf("dial %d: %s, want tcp", i, cli.Network())
		}
		if !d.PrefersTCP(addr) {
			t.Fatalf("dial %d: TCP not remembered", i)
		}
		roundTripSessionPair(ctx, t, cli, r.s)
		cli.CloseWithError(0, "")
		r.s.CloseWithError(0, "")
	}

	// After QUICRetry the address prefers QUIC again.
	d.QUICRetry = time.Nanosecond
	d.remember(addr, "tcp")
	time.Sleep(time.Millisecond)
	if d.PrefersTCP(addr) {
		t.Fatal("TCP still preferred after QUICRetry")
	}
}

func TestAutoRememberedTCPGoesFirst(t *testing.T) {
	ctx := testCtx(t)
	srv := newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := NewDialer(newID(t), Options{}, ModeAuto)
	addr := l.Addr().String()
	d.remember(addr, "tcp") // TCP first: QUIC races it after Fallback
	acc := acceptOne(ctx, l)
	cli, err := d.Dial(ctx, addr, &srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.CloseWithError(0, "")
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.CloseWithError(0, "")
	if cli.Network() != "tcp" { // TCP was tried first and answers at once
		t.Fatalf("dial: %s, want tcp", cli.Network())
	}
}

func TestAutoDialErrors(t *testing.T) {
	ctx := testCtx(t)
	srv, other := newID(t), newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		name string
		mode Mode
		want error
	}{
		{"auto wrong device", ModeAuto, ErrWrongDevice},
		{"quic wrong device", ModeQUIC, ErrWrongDevice},
		{"tcp wrong device", ModeTCP, ErrWrongDevice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDialer(newID(t), Options{}, tc.mode)
			d.Fallback = 50 * time.Millisecond
			_, err := d.Dial(ctx, l.Addr().String(), &other.ID)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{{"", ModeAuto, false}, {"auto", ModeAuto, false}, {"quic", ModeQUIC, false}, {"tcp", ModeTCP, false}, {"udp", "", true}} {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseMode(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestNodeListenerClose(t *testing.T) {
	ctx := testCtx(t)
	srv := newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	acc := acceptOne(ctx, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-acc; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("accept after close: %v", r.err)
	}
	if _, err := l.DialSession(ctx, "127.0.0.1:1", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("dial after close: %v", err)
	}
}

func TestBulkDialerPrefersTCPOnLink(t *testing.T) {
	ctx := testCtx(t)
	srv := newID(t)
	l, err := ListenNode("127.0.0.1:0", srv, Options{}, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := NewDialer(newID(t), Options{}, ModeAuto)
	for _, tc := range []struct {
		name string
		d    *Dialer
		want string
	}{{"plain", d, "quic"}, {"bulk", d.Bulk(), "tcp"}, {"bulk quic mode", NewDialer(newID(t), Options{}, ModeQUIC).Bulk(), "quic"}} {
		t.Run(tc.name, func(t *testing.T) {
			acc := acceptOne(ctx, l)
			cli, err := tc.d.Dial(ctx, l.Addr().String(), &srv.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.CloseWithError(0, "")
			r := <-acc
			if r.err != nil {
				t.Fatal(r.err)
			}
			defer r.s.CloseWithError(0, "")
			if cli.Network() != tc.want {
				t.Fatalf("%s, want %s", cli.Network(), tc.want)
			}
		})
	}
}

func TestOnLink(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7001", true},
		{"[::1]:7001", true},
		{"198.51.100.1:7001", false}, // TEST-NET-2: no local network here
		{"example.com:7001", false},
		{"no port", false},
	} {
		if got := onLink(tc.addr); got != tc.want {
			t.Errorf("onLink(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
