package tracker

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// bigFile is a valid manifest of a file of size bytes (made-up piece
// hashes, distinct per salt).
func bigFile(path string, size, pieceSize int64, salt int) manifest.Manifest {
	pieces := make([]manifest.Piece, manifest.PieceCount(size, pieceSize))
	for i := range pieces {
		h := &pieces[i].Hash
		h[0], h[1], h[2], h[30], h[31] = byte(i), byte(i>>8), byte(i>>16), byte(salt), byte(salt>>8)
	}
	return manifest.Manifest{Path: path, Kind: manifest.KindFile, Size: size, PieceSize: pieceSize,
		Pieces: pieces, ModTime: t0, ID: manifest.FileID(size, pieceSize, pieces)}
}

// TestBatchAtFrameLimitGetsReply: a FILE UPDATE packed to the frame limit
// (a first scan of 4 GiB files) is answered on the same connection. Results
// carry the current file ID, not the current manifest: when they echoed
// it, the reply outgrew MaxMessageSize and the client reconnected and sent
// the batch again, forever.
func TestBatchAtFrameLimitGetsReply(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{PieceSize: 1 << 20})
	a := startClient(t, srv.Addr().String(), srv.Token(), nil)
	a.registered(t)
	changes := make([]Change, 300) // 147 KiB each: the first batch holds about 260
	for i := range changes {
		changes[i].New = bigFile("scan/"+string(rune('a'+i%26))+"/"+time.Duration(i).String()+".img", 4<<30, 1<<20, i)
	}
	msg, n := buildBatch(changes)
	size := proto.Size(&trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: msg}})
	if n == len(changes) || size < MaxMessageSize-(1<<20) {
		t.Fatalf("first batch: %d changes in %d bytes; want it packed near MaxMessageSize (%d)", n, size, MaxMessageSize)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := a.Update(ctx, changes)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for i, r := range rs {
		if r.Outcome != Accepted || r.CurrentID != changes[i].New.ID {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	a.rec.mu.Lock()
	regs := len(a.rec.regs)
	a.rec.mu.Unlock()
	if regs != 1 {
		t.Fatalf("%d registrations: the client reconnected", regs)
	}
	// The reply to the packed batch, as the session encodes it.
	res := &trackerpb.Results{RequestId: 1}
	for _, r := range rs[:n] {
		res.Results = append(res.Results, resultToPB(r))
	}
	reply := proto.Size(&trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Results{Results: res}})
	t.Logf("batch of %d changes: %d bytes; its reply: %d bytes", n, size, reply)
	if reply > 64<<10 {
		t.Fatalf("reply of %d bytes to %d changes", reply, n)
	}
}
