package transport

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/quic-go/quic-go"
)

// rawServer listens on loopback with a hand-made server TLS config (what
// this package never offers) and handshakes every client; it stops when the
// test ends.
func rawServer(t *testing.T, network string, conf *tls.Config) string {
	t.Helper()
	if network == "quic" {
		tr := rawTransport(t)
		ql, err := tr.Listen(conf, &quic.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ql.Close() })
		return tr.Conn.LocalAddr().String()
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestSessionDialRefusesBadServers(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
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
			{"server with TLS 1.2", &tls.Config{Certificates: []tls.Certificate{newID(t).Cert}, NextProtos: []string{ALPN}, ClientAuth: tls.RequireAnyClientCert, MaxVersion: tls.VersionTLS12}, nil, "version"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				addr := rawServer(t, im.name, tc.conf)
				s, err := im.dial(ctx, addr, cliID, nil, Options{})
				t.Logf("error: %v", err)
				if err == nil {
					s.CloseWithError(0, "")
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
	})
}

// TestStreamContextEndsWithWriteSide: a stream's Context lives while its
// write direction does, and ends when the other side cancels reading (the
// server's signal that a requester gave up), at Close, and at CancelWrite.
func TestStreamContextEndsWithWriteSide(t *testing.T) {
	forEach(t, func(t *testing.T, im impl) {
		ctx := testCtx(t)
		p := newPair(t, im, Options{})
		for _, tc := range []struct {
			name string
			end  func(cli, srv Stream)
		}{
			{"remote CancelRead", func(cli, srv Stream) { cli.CancelRead(5) }},
			{"Close", func(cli, srv Stream) { srv.Close() }},
			{"CancelWrite", func(cli, srv Stream) { srv.CancelWrite(6) }},
		} {
			cli, srv := streamPair(ctx, t, p)
			if srv.Context().Err() != nil {
				t.Fatalf("%s: context ended before anything happened", tc.name)
			}
			tc.end(cli, srv)
			select {
			case <-srv.Context().Done():
			case <-ctx.Done():
				t.Fatalf("%s: the server stream's context did not end", tc.name)
			}
			cli.CancelRead(0)
			cli.CancelWrite(0)
			srv.CancelRead(0)
		}
	})
}
