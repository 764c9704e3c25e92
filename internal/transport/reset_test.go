package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

func TestResetKey(t *testing.T) {
	dir := t.TempDir()
	loaded, err := identity.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	reloaded, err := identity.LoadOrCreate(dir) // the same node after a restart
	if err != nil {
		t.Fatal(err)
	}
	other := newID(t)
	ecdsa := &identity.Identity{Cert: ecdsaCert(t)}
	key := func(id *identity.Identity) []byte {
		k, err := ResetKey(id)
		if err != nil {
			t.Fatal(err)
		}
		return k[:]
	}
	tests := []struct {
		name     string
		a, b     *identity.Identity
		wantSame bool
		wantErr  bool // ResetKey(b) fails
	}{
		{name: "same identity", a: loaded, b: loaded, wantSame: true},
		{name: "identity loaded again from disk", a: loaded, b: reloaded, wantSame: true},
		{name: "other identity", a: loaded, b: other, wantSame: false},
		{name: "nil identity", a: loaded, b: nil, wantErr: true},
		{name: "not Ed25519", a: loaded, b: ecdsa, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kb, err := ResetKey(tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ResetKey: err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if same := bytes.Equal(key(tc.a), kb[:]); same != tc.wantSame {
				t.Fatalf("keys equal: %v, want %v", same, tc.wantSame)
			}
		})
	}
	// The key is derived, never the private key or its seed itself.
	priv := loaded.Cert.PrivateKey.(ed25519.PrivateKey)
	k := key(loaded)
	if bytes.Equal(k, priv.Seed()) || bytes.Contains(priv, k) {
		t.Fatal("reset key is the raw private key")
	}
	if bytes.Equal(k, make([]byte, len(k))) {
		t.Fatal("reset key is zero")
	}
}

// crash ends l as a killed process would: its socket closes and its
// connections vanish, and no peer is told.
func crash(t *testing.T, l *Listener) {
	t.Helper()
	if err := l.ep.close(); err != nil {
		t.Fatal(err)
	}
}

// TestRestartedListenerResetsOldConnections: a node restarted with the same
// identity on the same port answers the first packet of a connection of
// its previous run with a stateless reset, and the client's connection
// ends with that error at once (without it the client would notice only at
// its idle timeout, here far longer than the test's deadline).
func TestRestartedListenerResetsOldConnections(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	patient := Options{IdleTimeout: time.Hour, KeepAlive: -1}
	l, err := Listen("127.0.0.1:0", srvID, patient)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	addr := l.Addr().String()
	acc := acceptAsync(ctx, l)
	cc, err := Dial(ctx, addr, cliID, &srvID.ID, patient)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	echoed := make(chan error, 1)
	go func() { echoed <- echoOnce(ctx, r.c) }()
	if err := roundTrip(ctx, cc, []byte("before the crash")); err != nil {
		t.Fatal(err)
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}

	crash(t, l)
	l2, err := Listen(addr, srvID, patient) // the restarted node
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })

	// The next request reaches the new process, which resets it.
	err = roundTrip(ctx, cc, bytes.Repeat([]byte("after the crash "), 8))
	if err == nil {
		t.Fatal("request on the old connection succeeded")
	}
	select {
	case <-cc.Context().Done():
	case <-ctx.Done():
		t.Fatalf("old connection still open (request error %v)", err)
	}
	if cause := context.Cause(cc.Context()); !IsStatelessReset(cause) {
		t.Fatalf("old connection ended with %v (request error %v), want a stateless reset", cause, err)
	}

	// The restarted node serves a new connection as usual.
	acc2 := acceptAsync(ctx, l2)
	cc2, err := Dial(ctx, addr, cliID, &srvID.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc2.Close()
	r2 := <-acc2
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	go func() { echoed <- echoOnce(ctx, r2.c) }()
	if err := roundTrip(ctx, cc2, []byte("new connection")); err != nil {
		t.Fatal(err)
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
}

// roundTrip sends msg on a new stream of c and checks it comes back.
func roundTrip(ctx context.Context, c *Conn, msg []byte) error {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { s.CancelRead(0); s.CancelWrite(0) })
	defer stop()
	if _, err := s.Write(msg); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	got, err := io.ReadAll(s)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs")
	}
	return nil
}
