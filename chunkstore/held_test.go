package chunkstore

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// Held reports the durable pieces of a partial, which are exactly the
// pieces ReadPiece finds in it: what a swarming peer may serve.
func TestHeldIsWhatPartialServes(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(7, 10*testPieceSize+3)
	m := buildManifest("f.bin", data, testPieceSize)
	n := len(m.Pieces) // 11: the last byte of the bitfield is partly used
	if _, ok := s.Held(m.ID, n); ok {
		t.Fatal("Held before any partial: ok")
	}
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, i := range []int{1, 8, 10} {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		id     manifest.ID
		pieces int
		want   []byte
		ok     bool
	}{
		{"pieces 1, 8, 10", m.ID, n, []byte{0b10, 0b101}, true},
		{"wrong piece count", m.ID, n + 8, nil, false},
		{"no piece count", m.ID, 0, nil, false},
		{"over the limit", m.ID, manifest.MaxPieces + 1, nil, false},
		{"another version", manifest.Hash([]byte("x")), n, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.Held(tc.id, tc.pieces)
			if ok != tc.ok || !bytes.Equal(got, tc.want) {
				t.Fatalf("Held = %08b, %v; want %08b, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	for i := range n {
		has := i == 1 || i == 8 || i == 10
		if _, err := s.ReadPiece(m.Pieces[i].Hash, nil); (err == nil) != has {
			t.Errorf("ReadPiece(piece %d) = %v; held %v", i, err, has)
		}
	}
}

// A partial committed lately is held whole: its downloader still answers
// the other downloaders of the version until they learn it owns it.
func TestHeldAfterCommit(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(8, 9*testPieceSize)
	m := buildManifest("f.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Commit(filepath.Join(root, "f.bin")); err != nil {
		t.Fatal(err)
	}
	got, ok := s.Held(m.ID, len(m.Pieces))
	if !ok || !bytes.Equal(got, []byte{0xff, 0x01}) {
		t.Fatalf("Held after commit = %08b, %v; want all 9 pieces", got, ok)
	}
	if _, ok := s.Held(m.ID, len(m.Pieces)+1); ok {
		t.Fatal("Held with another piece count: ok")
	}
}
