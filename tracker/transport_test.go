package tracker

import (
	"errors"
	"testing"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// TestTrackerOverEachTransport: a tracker serving QUIC and TCP (or one of
// them) registers a client dialling in each mode; a change one reports
// reaches a client of the other transport; a refusal (wrong token) reads
// the same over both.
func TestTrackerOverEachTransport(t *testing.T) {
	tests := []struct {
		name     string
		server   transport.Mode
		client   transport.Mode
		badToken bool
		wantNet  string
		wantErr  error
	}{
		{"tcp client, both served", transport.ModeAuto, transport.ModeTCP, false, "tcp", nil},
		{"quic client, both served", transport.ModeAuto, transport.ModeQUIC, false, "quic", nil},
		{"auto client, tcp served only", transport.ModeTCP, transport.ModeAuto, false, "tcp", nil},
		{"tcp client, wrong token", transport.ModeAuto, transport.ModeTCP, true, "", ErrWrongToken},
		{"quic client, wrong token", transport.ModeAuto, transport.ModeQUIC, true, "", ErrWrongToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, t.TempDir(), ServerConfig{Mode: tt.server})
			addr := srv.Addr().String()
			tok := srv.Token()
			id := newTestIdentity(t)
			net := transport.NewDialer(id, transport.Options{}, tt.client)
			d := NewDialer(DialerConfig{Addr: addr, Identity: id, Tracker: tok.Tracker, Net: net, Log: testLog(t)})
			t.Cleanup(func() { d.Close() })
			opts := []clientOpt{func(c *ClientConfig) { c.Dialer = d }}
			if tt.badToken {
				opts = append(opts, withSecret(make([]byte, len(tok.Secret))))
			}
			a := startClient(t, addr, tok, id, opts...)
			if tt.wantErr != nil {
				if err := a.runErr(t); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Run: %v, want %v", err, tt.wantErr)
				}
				return
			}
			a.registered(t)
			if got := d.Network(); got != tt.wantNet {
				t.Fatalf("tracker connection over %q, want %q", got, tt.wantNet)
			}
			b := startClient(t, addr, tok, nil) // the default: auto
			b.registered(t)
			v1 := testFile("over.txt", "over "+tt.wantNet, t0, manifest.ID{})
			if rs := a.update(t, v1); rs[0].Outcome != Accepted {
				t.Fatalf("result %+v", rs[0])
			}
			b.rec.wait(t, "the change on the other client", func(r *recorder) bool {
				e, ok := r.entry(v1.Path)
				return ok && e.Manifest.ID == v1.ID
			})
		})
	}
}
