package chunkstore

import (
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestStored: Stored agrees with Locate, for hashes given in any order and
// more than once, recorded or not, and for a ref removed since.
func TestStored(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	a := buildManifest("a", randomData(1, 3*testPieceSize), testPieceSize)
	b := buildManifest("b", randomData(2, 2*testPieceSize), testPieceSize)
	if err := s.AddFiles([]*manifest.Manifest{&a, &b}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFile("b"); err != nil {
		t.Fatal(err)
	}
	hs := []manifest.ID{a.Pieces[2].Hash, b.Pieces[0].Hash, a.Pieces[0].Hash, manifest.Hash([]byte("x")), a.Pieces[2].Hash}
	got, err := s.Stored(hs)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, true, false, true}
	if !slices.Equal(got, want) {
		t.Fatalf("Stored = %v, want %v", got, want)
	}
	for i, h := range hs {
		if _, ok := s.Locate(h); ok != want[i] {
			t.Errorf("Locate(%d) = %v, want %v", i, ok, want[i])
		}
	}
}

// BenchmarkStored: the pieces of a 65 536-piece manifest none of which is
// stored (a want), looked up at once; per piece.
func BenchmarkStored(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	for k := range 5 {
		if err := s.AddFiles(scaleManifests(k)); err != nil {
			b.Fatal(err)
		}
	}
	m := synthManifest("want.img", 9, 1<<16)
	hs := make([]manifest.ID, len(m.Pieces))
	for i := range hs {
		hs[i] = manifest.Hash(m.Pieces[i].Hash[:])
	}
	for b.Loop() {
		if _, err := s.Stored(hs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(hs)), "ns/piece")
}

// BenchmarkLocateMiss: one Locate of a hash that is not stored.
func BenchmarkLocateMiss(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	for k := range 5 {
		if err := s.AddFiles(scaleManifests(k)); err != nil {
			b.Fatal(err)
		}
	}
	var h manifest.ID
	for i := 0; b.Loop(); i++ {
		h[0], h[1] = byte(i), byte(i>>8)
		s.Locate(h)
	}
}
