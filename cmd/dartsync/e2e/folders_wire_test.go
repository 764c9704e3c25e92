package e2e

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// askPiece asks the running peer at addr (device server) for the piece
// whose bytes are data (one piece), in folder, as the device of the state
// directory asState; it returns the response's status and the bytes that
// follow it.
func askPiece(t *testing.T, addr string, server identity.DeviceID, asState, folder string, data []byte) (peerpb.Status, []byte) {
	t.Helper()
	id, err := identity.LoadOrCreate(asState)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, addr, id, &server, transport.Options{})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	st, err := c.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := manifest.Hash(data)
	if err := wire.Write(st, &peerpb.Request{Folder: folder, Body: &peerpb.Request_Piece{Piece: &peerpb.PieceRequest{
		Hash: h[:], Length: uint32(len(data))}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var resp peerpb.Response
	if err := wire.Read(st, &resp, 4<<10); err != nil {
		t.Fatalf("response: %v", err)
	}
	rest, _ := io.ReadAll(st)
	return resp.GetStatus(), rest
}

// checkPiecesPerFolder: on the wire, A's piece server gives C (a peer of
// photos only) a photos piece, and refuses it a work piece (FORBIDDEN, with
// nothing after the response) even named as photos' or work's; B, a peer
// of both, gets the work piece.
func checkPiecesPerFolder(t *testing.T, aAddr string, aID identity.DeviceID, bState, cState string, workData, photoData []byte) {
	t.Helper()
	tests := []struct {
		name   string
		state  string
		folder string
		data   []byte
		want   peerpb.Status
	}{
		{"C, photos piece in photos", cState, "photos", photoData, peerpb.Status_STATUS_OK},
		{"C, work piece in work", cState, "work", workData, peerpb.Status_STATUS_FORBIDDEN},
		{"C, work piece named as photos", cState, "photos", workData, peerpb.Status_STATUS_NOT_FOUND},
		{"C, photos piece in the default folder", cState, "", photoData, peerpb.Status_STATUS_FORBIDDEN},
		{"B, work piece in work", bState, "work", workData, peerpb.Status_STATUS_OK},
	}
	for _, tt := range tests {
		st, rest := askPiece(t, aAddr, aID, tt.state, tt.folder, tt.data)
		if st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
		if st == peerpb.Status_STATUS_OK && string(rest) != string(tt.data) {
			t.Errorf("%s: %d bytes, not the piece", tt.name, len(rest))
		}
		if st != peerpb.Status_STATUS_OK && len(rest) != 0 {
			t.Errorf("%s: %d bytes after a refusal", tt.name, len(rest))
		}
	}
}
