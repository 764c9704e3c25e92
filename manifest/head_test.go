package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest/manifestpb"
)

// TestUnmarshalHead: the head of every golden encoding is the decoded
// manifest without its pieces, and broken or oversized encodings are
// refused like Unmarshal refuses them.
func TestUnmarshalHead(t *testing.T) {
	for name, want := range goldenEncodings(t) {
		b, err := Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := UnmarshalHead(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		whole := want
		whole.Pieces = nil
		if n != len(want.Pieces) || !equalManifest(&got, &whole) {
			t.Fatalf("%s: head %+v (%d pieces), want %+v (%d)", name, got, n, whole, len(want.Pieces))
		}
	}
	big := fakeFile(MaxFileSize, DefaultPieceSize)
	over := big
	over.Size++
	bigEnc, _ := proto.Marshal(ToProto(&big))
	overEnc, _ := proto.Marshal(ToProto(&over))
	tests := []struct {
		name    string
		in      []byte
		count   int
		wantErr error
	}{
		{"MaxFileSize in MaxPieces pieces", bigEnc, MaxPieces, nil},
		{"one byte over MaxFileSize", overEnc, 0, ErrTooLarge},
		{"over MaxEncodedSize", make([]byte, MaxEncodedSize+1), 0, ErrTooLarge},
		{"not protobuf", []byte{0xff, 0xff, 0xff}, 0, ErrCorrupt},
		{"empty", nil, 0, ErrCorrupt},
		{"truncated", bigEnc[:len(bigEnc)-3], 0, ErrCorrupt},
		{"hashes without weak sums", protowire.AppendBytes(protowire.AppendTag(append([]byte(nil), bigEnc...), 9, protowire.BytesType), make([]byte, IDSize)), 0, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, n, err := UnmarshalHead(tt.in)
			if tt.wantErr == nil {
				if err != nil || n != tt.count || m.ID != big.ID || m.Pieces != nil {
					t.Fatalf("UnmarshalHead = %d pieces, ID %s, %v; want %d, %s", n, m.ID.Short(), err, tt.count, big.ID.Short())
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("UnmarshalHead = %v, want %v (and ErrCorrupt)", err, tt.wantErr)
			}
		})
	}
}

// FuzzUnmarshalHead: arbitrary bytes never crash the head decoder, and it
// agrees with Unmarshal: whatever Unmarshal accepts, UnmarshalHead accepts
// with the same fields and piece count; whatever UnmarshalHead refuses,
// Unmarshal refuses. Seeded with the golden encodings (testdata/manifest)
// and testdata/fuzz/FuzzUnmarshalHead.
func FuzzUnmarshalHead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.manifest"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed encodings in %s: %v", goldenDir, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		head, n, herr := UnmarshalHead(b)
		whole, werr := Unmarshal(b)
		switch {
		case werr == nil && herr != nil:
			t.Fatalf("Unmarshal accepts what UnmarshalHead refuses: %v", herr)
		case werr == nil:
			pieces := whole.Pieces
			whole.Pieces = nil
			if n != len(pieces) || !equalManifest(&head, &whole) {
				t.Fatalf("head %+v (%d pieces), whole %+v (%d)", head, n, whole, len(pieces))
			}
		case herr == nil:
			// Only the file ID, which the head does not recompute, may
			// be what Unmarshal refused.
			var p manifestpb.Manifest
			if err := proto.Unmarshal(b, &p); err != nil {
				t.Fatalf("UnmarshalHead accepts what proto.Unmarshal refuses: %v", err)
			}
			pieces := make([]Piece, n)
			for i := range pieces {
				copy(pieces[i].Hash[:], p.PieceHashes[i*IDSize:])
			}
			if head.Kind != KindFile || head.Deleted || FileID(head.Size, head.PieceSize, pieces) == head.ID {
				t.Fatalf("UnmarshalHead accepts what Unmarshal refuses: %v", werr)
			}
		}
	})
}
