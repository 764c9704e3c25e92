package chunkstore

import (
	"encoding/binary"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// synthManifest is a file of n pieces of testPieceSize whose hashes are
// made up (AddFiles reads no bytes).
func synthManifest(path string, seed uint32, n int) *manifest.Manifest {
	m := &manifest.Manifest{Path: path, Kind: manifest.KindFile, Size: int64(n) * testPieceSize, PieceSize: testPieceSize}
	m.Pieces = make([]manifest.Piece, n)
	for i := range m.Pieces {
		var h manifest.ID
		binary.BigEndian.PutUint32(h[:], seed)
		binary.BigEndian.PutUint32(h[4:], uint32(i))
		h[31] = 1
		m.Pieces[i].Hash = h
	}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	return m
}

// TestAddFilesBatches: a call larger than one batch records every file, and
// a path given twice ends with its last manifest, across batches too.
func TestAddFilesBatches(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	const n = addBatchWeight/2 - 1 // two files per batch
	first := synthManifest("dup.bin", 1, n)
	other := synthManifest("other.bin", 2, n)
	last := synthManifest("dup.bin", 3, n)
	if err := s.AddFiles([]*manifest.Manifest{first, other, last}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*manifest.Manifest{other, last} {
		for _, i := range []int{0, n / 2, n - 1} {
			if l, ok := s.Locate(m.Pieces[i].Hash); !ok || l.Offset != m.PieceOffset(i) {
				t.Errorf("%s piece %d: %+v %v", m.Path, i, l, ok)
			}
		}
	}
	if _, ok := s.Locate(first.Pieces[0].Hash); ok {
		t.Error("the replaced manifest of dup.bin is still located")
	}
}
