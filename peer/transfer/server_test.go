package transfer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

func dialServer(t *testing.T, ctx context.Context, s *testServer, id *identity.Identity) *transport.Conn {
	t.Helper()
	c, err := transport.Dial(ctx, s.l.Addr().String(), id, &s.id.ID, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawExchange sends raw bytes on a new stream, closes the sending side and
// returns the decoded response frame and the bytes after it.
func rawExchange(t *testing.T, ctx context.Context, c *transport.Conn, in []byte) (*peerpb.Response, []byte) {
	t.Helper()
	str, err := c.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) > 0 {
		if _, err := str.Write(in); err != nil {
			t.Fatal(err)
		}
	}
	str.Close()
	var resp peerpb.Response
	if err := wire.Read(str, &resp, MaxResponseFrame); err != nil {
		t.Fatalf("reading response: %v", err)
	}
	rest, err := io.ReadAll(str)
	if err != nil {
		t.Fatalf("reading after response: %v", err)
	}
	return &resp, rest
}

func TestServerAnswers(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 4*testPieceSize, testPieceSize)
	srv := startServer(t, newFileSource(t, path, m), allowAll)
	c := dialServer(t, ctx, srv, newIdentity(t))

	h0 := m.Pieces[0].Hash
	unknown := manifest.Hash([]byte("nobody has this"))
	huge := make([]byte, 8)
	huge[0] = 0x7f // frame length far over the limit
	tests := []struct {
		name     string
		in       []byte
		want     peerpb.Status
		wantData []byte
	}{
		{"piece", frame(t, pieceReq(h0[:], testPieceSize)), peerpb.Status_STATUS_OK, data[:testPieceSize]},
		{"unknown hash", frame(t, pieceReq(unknown[:], 100)), peerpb.Status_STATUS_NOT_FOUND, nil},
		{"wrong length", frame(t, pieceReq(h0[:], testPieceSize-1)), peerpb.Status_STATUS_NOT_FOUND, nil},
		{"oversized length", frame(t, pieceReq(h0[:], MaxPieceLen+1)), peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"short hash", frame(t, pieceReq(h0[:5], 10)), peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"garbage frame", rawFrame([]byte{0xff, 0xff, 0xff, 0xff}), peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"huge frame", huge, peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"truncated frame", []byte{0, 0, 1}, peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"two frames", append(frame(t, pieceReq(h0[:], testPieceSize)), frame(t, pieceReq(h0[:], testPieceSize))...), peerpb.Status_STATUS_BAD_REQUEST, nil},
		{"empty request", frame(t, &peerpb.Request{}), peerpb.Status_STATUS_BAD_REQUEST, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, rest := rawExchange(t, ctx, c, tt.in)
			if resp.GetStatus() != tt.want {
				t.Fatalf("status %v (%q), want %v", resp.GetStatus(), resp.GetMessage(), tt.want)
			}
			if !bytes.Equal(rest, tt.wantData) {
				t.Fatalf("got %d data bytes, want %d", len(rest), len(tt.wantData))
			}
		})
	}
	// After all that garbage the same connection is still served.
	bufs := newBufPool()
	got, err := requestPiece(ctx, c.Session(), bufs, "", m.Pieces[2].Hash, testPieceSize, 0)
	if err != nil || !bytes.Equal(got, data[2*testPieceSize:3*testPieceSize]) {
		t.Fatalf("request after garbage: %v", err)
	}
	if _, err := requestPiece(ctx, c.Session(), bufs, "", unknown, 100, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
}

func TestServerMembership(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 2*testPieceSize, testPieceSize)
	member := newIdentity(t)
	var revoked atomic.Bool
	auth := func(id identity.DeviceID) bool { return id == member.ID && !revoked.Load() }
	srv := startServer(t, newFileSource(t, path, m), auth)
	bufs := newBufPool()
	h := m.Pieces[0].Hash

	c := dialServer(t, ctx, srv, member)
	if _, err := requestPiece(ctx, c.Session(), bufs, "", h, testPieceSize, 0); err != nil {
		t.Fatalf("member refused: %v", err)
	}
	revoked.Store(true) // membership ends while connected
	if _, err := requestPiece(ctx, c.Session(), bufs, "", h, testPieceSize, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("revoked member: %v, want ErrForbidden", err)
	}
	stranger := dialServer(t, ctx, srv, newIdentity(t))
	if _, err := requestPiece(ctx, stranger.Session(), bufs, "", h, testPieceSize, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("non-member: %v, want ErrForbidden", err)
	}
}

func TestServerBusy(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 2*testPieceSize, testPieceSize)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	src := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) {
		entered <- struct{}{}
		<-release
	}}
	srv := startServer(t, src, allowAll, WithRemoteLimits(1, 1, 0))
	c := dialServer(t, ctx, srv, newIdentity(t))
	bufs := newBufPool()
	first := make(chan error, 1)
	go func() {
		b, err := requestPiece(ctx, c.Session(), bufs, "", m.Pieces[0].Hash, testPieceSize, 0)
		if err == nil && !bytes.Equal(b, data[:testPieceSize]) {
			err = errors.New("wrong data")
		}
		first <- err
	}()
	<-entered // the only slot is taken
	if _, err := requestPiece(ctx, c.Session(), bufs, "", m.Pieces[1].Hash, testPieceSize, 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("second request: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first request: %v", err)
	}
}
