package delta

import (
	"bytes"
	"context"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestBasisRange(t *testing.T) {
	m := &manifest.Manifest{Size: 10 * 4096, PieceSize: 4096, Pieces: make([]manifest.Piece, 10)}
	tests := []struct {
		name      string
		matches   []Match
		i         int
		basisSize int64
		off, n    int64
	}{
		{"no neighbours: own range", nil, 3, 1 << 20, 3 * 4096, 4096},
		{"neighbours in place", []Match{{2, 2 * 4096}, {4, 4 * 4096}}, 3, 1 << 20, 3 * 4096, 4096},
		{"insertion in the piece: next found earlier", []Match{{4, 4*4096 - 5}}, 3, 1 << 20, 3 * 4096, 4096},
		{"deletion in the piece: next found later", []Match{{4, 4*4096 + 5}}, 3, 1 << 20, 3 * 4096, 4096 + 5},
		{"shifted right by an earlier insertion", []Match{{2, 2*4096 - 100}, {4, 4*4096 - 100}}, 3, 1 << 20, 3*4096 - 100, 4096},
		{"shifted left by an earlier deletion", []Match{{2, 2*4096 + 100}}, 3, 1 << 20, 3*4096 + 100, 4096},
		{"clamped to the basis", nil, 9, 9*4096 + 10, 9 * 4096, 10},
		{"nothing there", nil, 9, 100, 0, 0},
		{"out of range piece", nil, 10, 1 << 20, 0, 0},
		{"gap too long", []Match{{4, 4*4096 + 2*MaxBasisLen}}, 3, 1 << 40, 3 * 4096, MaxBasisLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, n := BasisRange(m, tt.matches, tt.i, tt.basisSize)
			if off != tt.off || n != tt.n {
				t.Fatalf("BasisRange = %d, %d; want %d, %d", off, n, tt.off, tt.n)
			}
		})
	}
}

// The whole receiver flow on a one-byte insertion: Find locates the shifted
// pieces, the piece holding the insertion comes as a delta against the gap
// BasisRange picks, and its literal is the inserted byte plus at most two
// blocks (the block holding the insertion and the piece's last block, which
// now ends one byte short of its old end).
func TestInsertionFlow(t *testing.T) {
	const ps = 64 << 10
	old := randBytes(500, 8*ps)
	nw := splice(old, 3*ps+1000, 0, []byte{42})
	m := manifestOf(nw, ps)
	res, err := Find(context.Background(), bytes.NewReader(old), int64(len(old)), m, all(len(m.Pieces)))
	if err != nil {
		t.Fatal(err)
	}
	found := map[int]bool{}
	for _, mt := range res.Matches {
		found[mt.Piece] = true
	}
	for i := range m.Pieces {
		if i == 3 { // piece 8, the new one-byte tail, is the end of the old file
			if found[i] {
				t.Fatalf("piece %d should need a delta", i)
			}
			continue
		}
		if !found[i] {
			t.Fatalf("piece %d not found", i)
		}
	}
	off, n := BasisRange(m, res.Matches, 3, int64(len(old)))
	piece := nw[3*ps : 4*ps]
	sig, err := Sign(old[off:off+n], 0)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := Diff(sig, piece)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDelta(dl)
	if err != nil {
		t.Fatal(err)
	}
	if lit := d.LiteralBytes(); lit > 2*sig.BlockSize+1 {
		t.Errorf("%d literal bytes for a one-byte insertion (block %d)", lit, sig.BlockSize)
	}
	if _, err := Apply(old[off:off+n], dl, m.Pieces[3].Hash, len(piece)); err != nil {
		t.Fatal(err)
	}
}
