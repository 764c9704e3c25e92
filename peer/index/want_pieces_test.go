package index

import (
	"slices"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/dartsync/dartsync/internal/identity"
)

// TestWantPieceChunks: piece lists on either side of a chunk boundary come
// back whole, a shorter list replacing a longer one leaves no chunk of the
// longer behind, and a done want leaves none at all.
func TestWantPieceChunks(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	chunksOf := func(path string) int {
		lo := pieceChunkKey(path, 0)
		it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: lo[:len(lo)-2], UpperBound: pieceChunkKey(path, 0xffff)})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for it.First(); it.Valid(); it.Next() {
			n++
		}
		return n
	}
	seq := uint64(0)
	for _, n := range []int{1, piecesChunk, piecesChunk + 1, 3*piecesChunk + 7, piecesChunk - 1, 2} {
		m := bigManifest("d/big", n)
		seq++
		if err := x.Update(Batch{Wants: []Want{{Manifest: m, Owners: []identity.DeviceID{{1}}, Seq: seq}}, Seq: seq}); err != nil {
			t.Fatal(err)
		}
		w, ok, err := x.Want("d/big", m.ID)
		if err != nil || !ok {
			t.Fatalf("%d pieces: Want = %v %v", n, ok, err)
		}
		if !slices.Equal(w.Manifest.Pieces, m.Pieces) {
			t.Fatalf("%d pieces: the list read back differs", n)
		}
		if got, want := chunksOf("d/big"), pieceChunks(n); got != want {
			t.Fatalf("%d pieces: %d chunk records, want %d", n, got, want)
		}
		if chunksOf("d") != 0 {
			t.Fatalf("the chunks of d/big are listed under d")
		}
	}
	m := bigManifest("d/big", 2)
	if err := x.Update(Batch{DoneWants: []Done{{Path: "d/big", ID: m.ID}}}); err != nil {
		t.Fatal(err)
	}
	if n := chunksOf("d/big"); n != 0 {
		t.Fatalf("%d chunk records left after the want was done", n)
	}
}
