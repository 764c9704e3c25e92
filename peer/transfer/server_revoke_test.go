package transfer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
)

// TestCloseNonMembers: over real QUIC, a device that stops being a member
// while connected has its connection closed by CloseNonMembers (its next
// request fails with ErrForbidden, its reconnection is refused), and a
// member's connection is left alone and still served.
func TestCloseNonMembers(t *testing.T) {
	ctx := testCtx(t)
	m, path, _ := writeTestFile(t, t.TempDir(), 2*testPieceSize, testPieceSize)
	kept, removed := newIdentity(t), newIdentity(t)
	var revoked atomic.Bool
	auth := func(id identity.DeviceID) bool { return id == kept.ID || id == removed.ID && !revoked.Load() }
	srvID := newIdentity(t)
	l, err := transport.ListenNode("127.0.0.1:0", srvID, transport.Options{}, transport.ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := NewServer(newFileSource(t, path, m), auth, testLog(t))
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, l) }()
	defer func() { cancel(); <-done }()
	ts := &testServer{id: srvID, l: l}

	bufs := newBufPool()
	h := m.Pieces[0].Hash
	kc, rc := dialServer(t, ctx, ts, kept), dialServer(t, ctx, ts, removed)
	for _, c := range []*transport.Conn{kc, rc} {
		if _, err := requestPiece(ctx, c.Session(), bufs, "", h, testPieceSize, 0); err != nil {
			t.Fatalf("member refused: %v", err)
		}
	}
	if n := srv.CloseNonMembers(); n != 0 {
		t.Fatalf("CloseNonMembers closed %d connections of members", n)
	}
	revoked.Store(true)
	if n := srv.CloseNonMembers(); n != 1 {
		t.Fatalf("CloseNonMembers closed %d connections, want the removed device's one", n)
	}
	<-rc.Context().Done()
	if _, err := requestPiece(ctx, rc.Session(), bufs, "", h, testPieceSize, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("removed device on its closed connection: %v, want ErrForbidden", err)
	}
	again, err := transport.Dial(ctx, l.Addr().String(), removed, &srvID.ID, transport.Options{})
	if err == nil {
		defer again.Close()
		_, err = requestPiece(ctx, again.Session(), bufs, "", h, testPieceSize, 0)
	}
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("removed device reconnecting: %v, want ErrForbidden", err)
	}
	if _, err := requestPiece(ctx, kc.Session(), bufs, "", h, testPieceSize, 0); err != nil {
		t.Fatalf("the member left connected: %v", err)
	}
}
