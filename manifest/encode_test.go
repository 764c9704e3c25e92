package manifest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest/manifestpb"
)

func testFile(t *testing.T) Manifest {
	t.Helper()
	m, err := Build(context.Background(), bytes.NewReader(pattern(3*MinPieceSize+5)), MinPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	m.Path = "docs/report.txt"
	m.ModTime = 1234
	return m
}

func TestMarshalRoundTrip(t *testing.T) {
	file := testFile(t)
	based := file
	based.Base = Hash([]byte("old"))
	based.Exec = true
	for name, m := range map[string]Manifest{
		"file":      file,
		"based":     based,
		"dir":       NewDir("a/b", 99),
		"tombstone": NewTombstone("docs/report.txt", KindFile, file.ID, 5),
	} {
		b, err := Marshal(&m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !equalManifest(&got, &m) {
			t.Errorf("%s: round trip gave %+v, want %+v", name, got, m)
		}
	}
}

// TestUnmarshalRejects mutates a valid encoding one field at a time; every
// mutation must be refused with an error wrapping ErrCorrupt and the cause.
func TestUnmarshalRejects(t *testing.T) {
	file := testFile(t)
	good := ToProto(&file)
	tomb := NewTombstone("x", KindFile, file.ID, 1)
	dir := NewDir("d", 1)
	tests := []struct {
		name    string
		from    *manifestpb.Manifest
		mutate  func(p *manifestpb.Manifest)
		wantErr error // besides ErrCorrupt; nil if none in particular
	}{
		{"format 0", good, func(p *manifestpb.Manifest) { p.Format = 0 }, nil},
		{"format 2", good, func(p *manifestpb.Manifest) { p.Format = 2 }, nil},
		{"empty path", good, func(p *manifestpb.Manifest) { p.Path = "" }, ErrBadPath},
		{"dot-dot path", good, func(p *manifestpb.Manifest) { p.Path = "../etc/passwd" }, ErrBadPath},
		{"absolute path", good, func(p *manifestpb.Manifest) { p.Path = "/etc/passwd" }, ErrBadPath},
		{"state dir path", good, func(p *manifestpb.Manifest) { p.Path = ".dartsync/index.db" }, ErrBadPath},
		{"unknown kind", good, func(p *manifestpb.Manifest) { p.Kind = 7 }, nil},
		{"size overflow", good, func(p *manifestpb.Manifest) { p.Size = 1 << 63 }, nil},
		{"size one more", good, func(p *manifestpb.Manifest) { p.Size++ }, ErrInvalid},
		{"size one piece more", good, func(p *manifestpb.Manifest) { p.Size += MinPieceSize }, ErrInvalid},
		{"size beyond max pieces", good, func(p *manifestpb.Manifest) { p.Size = MaxPieces*MinPieceSize + 1 }, ErrTooLarge},
		{"piece size 0", good, func(p *manifestpb.Manifest) { p.PieceSize = 0 }, ErrPieceSize},
		{"piece size small", good, func(p *manifestpb.Manifest) { p.PieceSize = MinPieceSize - 1 }, ErrPieceSize},
		{"piece size large", good, func(p *manifestpb.Manifest) { p.PieceSize = MaxPieceSize + 1 }, ErrPieceSize},
		{"piece size changed", good, func(p *manifestpb.Manifest) { p.PieceSize *= 2 }, ErrInvalid},
		{"hash bytes short", good, func(p *manifestpb.Manifest) { p.PieceHashes = p.PieceHashes[:len(p.PieceHashes)-1] }, nil},
		{"hash bytes long", good, func(p *manifestpb.Manifest) { p.PieceHashes = append(p.PieceHashes, 0) }, nil},
		{"weak missing", good, func(p *manifestpb.Manifest) { p.PieceWeak = p.PieceWeak[1:] }, nil},
		{"piece dropped", good, func(p *manifestpb.Manifest) {
			p.PieceWeak = p.PieceWeak[1:]
			p.PieceHashes = p.PieceHashes[IDSize:]
		}, ErrInvalid},
		{"piece hash flipped", good, func(p *manifestpb.Manifest) { p.PieceHashes[40] ^= 1 }, ErrInvalid},
		{"file id flipped", good, func(p *manifestpb.Manifest) { p.FileId[0] ^= 1 }, ErrInvalid},
		{"file id empty", good, func(p *manifestpb.Manifest) { p.FileId = nil }, ErrInvalid},
		{"file id short", good, func(p *manifestpb.Manifest) { p.FileId = p.FileId[:31] }, nil},
		{"file id long", good, func(p *manifestpb.Manifest) { p.FileId = append(p.FileId, 0) }, nil},
		{"base short", good, func(p *manifestpb.Manifest) { p.Base = make([]byte, 16) }, nil},
		{"tombstone with pieces", ToProto(&tomb), func(p *manifestpb.Manifest) {
			p.PieceWeak, p.PieceHashes, p.Size, p.PieceSize = []uint32{1}, make([]byte, IDSize), 1, MinPieceSize
		}, ErrInvalid},
		{"tombstone wrong id", ToProto(&tomb), func(p *manifestpb.Manifest) { p.FileId[3] ^= 1 }, ErrInvalid},
		{"tombstone no base", ToProto(&tomb), func(p *manifestpb.Manifest) { p.Base = nil }, ErrInvalid},
		{"tombstone exec", ToProto(&tomb), func(p *manifestpb.Manifest) { p.Executable = true }, ErrInvalid},
		{"dir with size", ToProto(&dir), func(p *manifestpb.Manifest) { p.Size = 5 }, ErrInvalid},
		{"dir with piece size", ToProto(&dir), func(p *manifestpb.Manifest) { p.PieceSize = MinPieceSize }, ErrInvalid},
		{"dir wrong id", ToProto(&dir), func(p *manifestpb.Manifest) { p.FileId = file.ID[:] }, ErrInvalid},
	}
	for _, tt := range tests {
		p := proto.Clone(tt.from).(*manifestpb.Manifest)
		tt.mutate(p)
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Unmarshal(b)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error %v, want ErrCorrupt", tt.name, err)
			continue
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want it to wrap %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestUnmarshalBounds(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"over MaxEncodedSize", make([]byte, MaxEncodedSize+1), ErrTooLarge},
		{"not protobuf", []byte{0xff, 0xff, 0xff}, ErrCorrupt},
		{"empty", nil, ErrCorrupt},
		{"truncated", func() []byte {
			m := testFile(t)
			b, _ := Marshal(&m)
			return b[:len(b)-3]
		}(), ErrCorrupt},
	}
	for _, tt := range tests {
		_, err := Unmarshal(tt.in)
		if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error %v, want %v (and ErrCorrupt)", tt.name, err, tt.wantErr)
		}
	}
	if _, err := FromProto(nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("FromProto(nil): error %v, want ErrCorrupt", err)
	}
}

func TestMarshalValidates(t *testing.T) {
	m := testFile(t)
	m.Path = "../escape"
	if _, err := Marshal(&m); !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrBadPath) {
		t.Fatalf("error %v, want ErrInvalid wrapping ErrBadPath", err)
	}
}

// TestMaxEncodedSize: the largest valid manifest (every field at its
// longest) fits in MaxEncodedSize.
func TestMaxEncodedSize(t *testing.T) {
	m := Manifest{
		Path: string(bytes.Repeat([]byte("a"), MaxPathLen)), Size: MaxFileSize, PieceSize: MaxPieceSize,
		Pieces: make([]Piece, MaxPieces), ModTime: -1, Exec: true, Base: ID{1}, ID: ID{2}, Kind: KindDir, Deleted: true,
	}
	for i := range m.Pieces {
		m.Pieces[i].Weak = 0xffffffff
	}
	if n := proto.Size(ToProto(&m)); n > MaxEncodedSize {
		t.Fatalf("largest manifest encodes to %d bytes, MaxEncodedSize is %d", n, MaxEncodedSize)
	}
}
