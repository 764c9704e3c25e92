package transfer

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

func TestFetchDelta(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 8*testPieceSize, testPieceSize)
	good := startServer(t, newFileSource(t, path, m), allowAll)
	bad := startServer(t, &hookSource{PieceSource: newFileSource(t, path, m), corrupt: func(manifest.ID) bool { return true }}, allowAll)
	f := newFetcher(t, newIdentity(t), FetchOptions{})

	i := 3
	want := data[i*testPieceSize : (i+1)*testPieceSize]
	// The receiver's old bytes: the same piece with a small edit and a
	// 5-byte insertion.
	basis := append([]byte{}, want[:1000]...)
	basis = append(basis, "edit!"...)
	basis = append(basis, want[1000:]...)
	basis[9000] ^= 0xff
	h := m.Pieces[i].Hash

	tests := []struct {
		name    string
		src     Source
		hash    manifest.ID
		wantErr error
	}{
		{"rebuilt", good.source(), h, nil},
		{"unknown piece", good.source(), manifest.Hash([]byte("nobody")), ErrNotFound},
		{"corrupt source", bad.source(), h, ErrBadPiece},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := f.FetchDelta(ctx, tt.src, tt.hash, testPieceSize, basis)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got, want) {
				t.Fatal("rebuilt piece differs")
			}
			if st.DeltaBytes == 0 || st.DeltaBytes > testPieceSize/4 || st.SignatureBytes == 0 {
				t.Fatalf("delta moved %+v for a %d-byte piece with two small edits", st, testPieceSize)
			}
		})
	}
}

func TestServerRefusesBadDeltaRequests(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 2*testPieceSize, testPieceSize)
	srv := startServer(t, newFileSource(t, path, m), allowAll)
	c := dialServer(t, ctx, srv, newIdentity(t))
	h := m.Pieces[0].Hash
	deltaReq := func(h []byte, n uint32, sig []byte) *peerpb.Request {
		return &peerpb.Request{Body: &peerpb.Request_Delta{Delta: &peerpb.DeltaRequest{Hash: h, Length: n, Signature: sig}}}
	}
	tests := []struct {
		name string
		req  *peerpb.Request
	}{
		{"garbage signature", deltaReq(h[:], testPieceSize, []byte{1, 2, 3, 4, 5})},
		{"empty signature", deltaReq(h[:], testPieceSize, nil)},
		{"short hash", deltaReq(h[:3], testPieceSize, nil)},
		{"oversized signature", deltaReq(h[:], testPieceSize, make([]byte, MaxSignature+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, rest := rawExchange(t, ctx, c, frame(t, tt.req))
			if resp.GetStatus() != peerpb.Status_STATUS_BAD_REQUEST || len(rest) != 0 {
				t.Fatalf("status %v (%q), %d bytes after", resp.GetStatus(), resp.GetMessage(), len(rest))
			}
		})
	}
}

// FuzzParseDeltaRequest: no request may crash the server's parser; an
// accepted one is within limits.
func FuzzParseDeltaRequest(f *testing.F) {
	h := manifest.Hash([]byte("seed"))
	f.Add(h[:], uint32(4096), []byte{1, 0x80, 0x10, 0x80, 0x20, 4})
	f.Add(h[:4], uint32(0), []byte(nil))
	f.Fuzz(func(t *testing.T, hash []byte, length uint32, sig []byte) {
		req, err := parseDeltaRequest(&peerpb.DeltaRequest{Hash: hash, Length: length, Signature: sig})
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if req.length <= 0 || req.length > MaxPieceLen || req.sig == nil {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// TestFetchDeltaWaitsForInFlight: a delta counts against MaxInFlight like
// a piece: with the fetcher's whole budget taken it sends nothing and
// waits, and it goes ahead once the budget is free.
func TestFetchDeltaWaitsForInFlight(t *testing.T) {
	ctx := testCtx(t)
	m, path, data := writeTestFile(t, t.TempDir(), 4*testPieceSize, testPieceSize)
	srv := startServer(t, newFileSource(t, path, m), allowAll)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	basis := data[:testPieceSize]
	if err := f.mem.Acquire(ctx, f.opt.MaxInFlight); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var st DeltaStats
	go func() {
		var err error
		_, st, err = f.FetchDelta(wctx, srv.source(), m.Pieces[1].Hash, testPieceSize, basis)
		done <- err
	}()
	waitFor(t, "the delta to start", func() bool { return f.Load().Files == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || st.SignatureBytes != 0 {
		t.Fatalf("with the budget taken: %v after sending %d signature bytes; want it cancelled before sending", err, st.SignatureBytes)
	}
	f.mem.Release(f.opt.MaxInFlight)
	got, _, err := f.FetchDelta(ctx, srv.source(), m.Pieces[1].Hash, testPieceSize, basis)
	if err != nil || !bytes.Equal(got, data[testPieceSize:2*testPieceSize]) {
		t.Fatalf("with the budget free: %v", err)
	}
}
