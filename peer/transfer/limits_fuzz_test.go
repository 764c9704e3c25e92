package transfer

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// FuzzReadRequest: a request stream as the piece server reads it
// (readRequest: length, the device's and the server's budgets of request
// bytes, body in steps, end of stream), then parsed by its kind. No input
// may crash it, errors are classified, and the budget is given back.
func FuzzReadRequest(f *testing.F) {
	h := manifest.Hash([]byte("seed"))
	f.Add(frame(f, pieceReq(h[:], 4096)))
	named := pieceReq(h[:], 4096)
	named.Folder = "photos"
	f.Add(frame(f, named))
	f.Add(frame(f, &peerpb.Request{Body: &peerpb.Request_Delta{Delta: &peerpb.DeltaRequest{
		Hash: h[:], Length: 4096, Signature: []byte{1, 0x80, 0x10, 0x80, 0x20, 4}}}}))
	f.Add(frame(f, &peerpb.Request{Body: &peerpb.Request_Have{Have: &peerpb.HaveRequest{FileId: h[:], Pieces: 100}}}))
	f.Add(header(MaxRequestFrame + 1))
	f.Add(append(header(MaxRequestFrame), 1, 2, 3))
	f.Add(append(frame(f, pieceReq(h[:], 4096)), 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewServer(nil, allowAll, slog.New(slog.DiscardHandler))
		dev := identity.DeviceID{7}
		rem := s.acquireRemote(dev)
		defer s.releaseRemote(dev)
		req, release, err := readRequest(bytes.NewReader(in), func(n int) (func(), error) { return s.admitRequest(rem, n) })
		if err == nil {
			switch body := req.GetBody().(type) {
			case *peerpb.Request_Piece:
				_, err = parsePieceRequest(body.Piece)
			case *peerpb.Request_Delta:
				_, err = parseDeltaRequest(body.Delta)
			case *peerpb.Request_Have:
				_, err = parseHaveRequest(body.Have)
			}
			release()
		}
		if err != nil && !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrBusy) && !errors.Is(err, io.EOF) {
			t.Fatalf("unclassified error: %v", err)
		}
		if !rem.reqBytes.TryAcquire(MaxRemoteRequestBytes) || !s.reqBytes.TryAcquire(MaxServerRequestBytes) {
			t.Fatal("request bytes not given back")
		}
	})
}
