package tracker

import (
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// TestPushedManifestLimits: a pushed entry whose manifest is over
// manifest.MaxFileSize or MaxPieces is refused by the client's decoder
// (entryFromPB) with an error wrapping ErrProtocol and manifest.ErrTooLarge;
// one at the limits, or a legitimate 1 GiB file, is accepted. (A member's
// FILE_UPDATE with such a manifest is answered REJECTED naming the limit:
// peer.TestHostileMemberHugeManifests, over real QUIC.)
func TestPushedManifestLimits(t *testing.T) {
	tests := []struct {
		name            string
		size, pieceSize int64
		wantErr         error
	}{
		{"1 GiB in default pieces", 1 << 30, manifest.DefaultPieceSize, nil},
		{"MaxFileSize in the largest pieces", manifest.MaxFileSize, manifest.MaxPieceSize, nil},
		{"over MaxFileSize", manifest.MaxFileSize + 1, manifest.MaxPieceSize, manifest.ErrTooLarge},
		{"over MaxPieces", (manifest.MaxPieces + 1) * manifest.MinPieceSize, manifest.MinPieceSize, manifest.ErrTooLarge},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := bigFile("big.img", tt.size, tt.pieceSize, i)
			e, err := entryFromPB(&trackerpb.Entry{Manifest: manifest.ToProto(&m), Owners: [][]byte{make([]byte, 32)}, Seq: 1})
			switch {
			case tt.wantErr == nil && (err != nil || e.Manifest.ID != m.ID):
				t.Fatalf("entryFromPB = %v", err)
			case tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !errors.Is(err, ErrProtocol)):
				t.Fatalf("entryFromPB = %v, want %v (and ErrProtocol)", err, tt.wantErr)
			}
		})
	}
}
