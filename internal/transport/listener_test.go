package transport

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/quic-go/quic-go"
)

func TestListenerDialUsesListeningPort(t *testing.T) {
	ctx := testCtx(t)
	aID, bID := newID(t), newID(t)
	a, b := listen(t, aID), listen(t, bID)
	acc := acceptAsync(ctx, b)
	c, err := a.Dial(ctx, b.Addr().String(), &bID.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c.Remote != bID.ID || r.c.Remote != aID.ID {
		t.Fatalf("remotes %s / %s", c.Remote, r.c.Remote)
	}
	if got, want := r.c.RemoteAddr().(*net.UDPAddr).Port, a.Addr().(*net.UDPAddr).Port; got != want {
		t.Fatalf("source port %d, want listening port %d", got, want)
	}
	// Closing a closes the connection it dialed; b's side learns it.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-r.c.Context().Done()
	var appErr *quic.ApplicationError
	if err := context.Cause(r.c.Context()); !errors.As(err, &appErr) || !appErr.Remote {
		t.Fatalf("b sees %v, want a remote application close", err)
	}
	if _, err := a.Dial(ctx, b.Addr().String(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestListenerCloseClosesAcceptedConns(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	l := listen(t, srvID)
	acc := acceptAsync(ctx, l)
	cc, err := Dial(ctx, l.Addr().String(), cliID, &srvID.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	l.Close()
	<-cc.Context().Done() // the client is told; would hang (test timeout) otherwise
	<-r.c.Context().Done()
	if _, err := cc.OpenStreamSync(ctx); err == nil {
		t.Fatal("stream on a closed connection")
	}
}

func TestDialConnReleasedWhenRemoteCloses(t *testing.T) {
	ctx := testCtx(t)
	srvID, cliID := newID(t), newID(t)
	l := listen(t, srvID)
	acc := acceptAsync(ctx, l)
	cc, err := Dial(ctx, l.Addr().String(), cliID, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.c.CloseWithError(7, "bye")
	<-cc.Context().Done()
	<-cc.released // the client's socket goes without an explicit Close
	var appErr *quic.ApplicationError
	if err := context.Cause(cc.Context()); !errors.As(err, &appErr) || appErr.ErrorCode != 7 {
		t.Fatalf("client sees %v", err)
	}
	if err := cc.Close(); err != nil {
		t.Fatalf("Close after remote close: %v", err)
	}
}

func TestDialBadAddresses(t *testing.T) {
	ctx := testCtx(t)
	id := newID(t)
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:notaport", "no-such-host.invalid:7000", "[::1:7000"} {
		t.Run(addr, func(t *testing.T) {
			if _, err := Dial(ctx, addr, id, nil, Options{}); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := Dial(ctx, "127.0.0.1:1", nil, nil, Options{}); err == nil {
		t.Fatal("nil identity accepted")
	}
	if _, err := Listen("127.0.0.1:0", nil, Options{}); err == nil {
		t.Fatal("nil identity accepted")
	}
	if _, err := Listen("bad address", id, Options{}); err == nil {
		t.Fatal("bad listen address accepted")
	}
}
