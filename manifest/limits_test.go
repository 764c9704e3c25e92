package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
)

// fakeFile is a valid manifest of a file of size bytes whose pieces were
// never hashed from any data (what a hostile member can publish): piece i's
// hash is derived from i.
func fakeFile(size, pieceSize int64) Manifest {
	pieces := make([]Piece, PieceCount(size, pieceSize))
	for i := range pieces {
		pieces[i].Hash[0], pieces[i].Hash[1], pieces[i].Hash[2] = byte(i), byte(i>>8), byte(i>>16)
		pieces[i].Weak = uint32(i)
	}
	return Manifest{Path: "big.img", Kind: KindFile, Size: size, PieceSize: pieceSize, Pieces: pieces, ID: FileID(size, pieceSize, pieces)}
}

// TestSizeLimits: MaxFileSize and MaxPieces are enforced by Validate and by
// the decoder (which refuses before allocating pieces), and a file at the
// limits, or a legitimate large file at the default piece size, passes.
func TestSizeLimits(t *testing.T) {
	tests := []struct {
		name            string
		size, pieceSize int64
		wantErr         error
	}{
		{"1 GiB + 1 at the default piece size", 1<<30 + 1, DefaultPieceSize, nil},
		{"exactly MaxFileSize in MaxPieces default pieces", MaxFileSize, DefaultPieceSize, nil},
		{"one byte over MaxFileSize", MaxFileSize + 1, 2 * DefaultPieceSize, ErrTooLarge},
		{"MaxPieces small pieces", MaxPieces * MinPieceSize, MinPieceSize, nil},
		{"one piece over MaxPieces", MaxPieces*MinPieceSize + 1, MinPieceSize, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckSize(tt.size, tt.pieceSize); !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("CheckSize = %v, want %v", err, tt.wantErr)
			}
			var m Manifest
			if tt.wantErr == nil {
				m = fakeFile(tt.size, tt.pieceSize)
			} else {
				// Over a limit: as many pieces as the limit allows (the
				// decoder must refuse on the size, before counting).
				m = fakeFile(min(tt.size, MaxFileSize), tt.pieceSize)
				m.Size = tt.size
			}
			err := m.Validate()
			if !errors.Is(err, tt.wantErr) && (err != nil || tt.wantErr != nil) {
				t.Fatalf("Validate = %v, want %v", err, tt.wantErr)
			}
			b, err := proto.Marshal(ToProto(&m)) // no validation, as a hostile member sends it
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Unmarshal = %v", err)
			case tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !errors.Is(err, ErrCorrupt)):
				t.Fatalf("Unmarshal = %v, want %v (and ErrCorrupt)", err, tt.wantErr)
			case tt.wantErr == nil && got.ID != m.ID:
				t.Fatalf("decoded ID %s, want %s", got.ID.Short(), m.ID.Short())
			}
		})
	}
}

// TestBuildFileRefusesOverMaxFileSize: BuildFile refuses a file over
// MaxFileSize from its size, before reading it (a sparse file here).
func TestBuildFileRefusesOverMaxFileSize(t *testing.T) {
	dir := t.TempDir()
	if _, err := createSparse(dir, "huge", MaxFileSize+1); err != nil {
		t.Skipf("no sparse file of %d bytes here: %v", int64(MaxFileSize+1), err)
	}
	_, err := BuildFile(t.Context(), dir, "huge", MaxPieceSize)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("BuildFile = %v, want ErrTooLarge", err)
	}
}

func createSparse(dir, name string, size int64) (string, error) {
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return p, f.Truncate(size)
}
