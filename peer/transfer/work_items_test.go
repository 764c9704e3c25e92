package transfer

import (
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestWorkItems: one item per distinct hash in the order of missing, each
// at its first index; the further indexes of repeated hashes in order.
func TestWorkItems(t *testing.T) {
	a, b, c := manifest.Hash([]byte("a")), manifest.Hash([]byte("b")), manifest.Hash([]byte("c"))
	// Pieces 0..6: a b a c b a c; the last piece is short (10 bytes).
	hashes := []manifest.ID{a, b, a, c, b, a, c}
	m := &manifest.Manifest{Path: "f", PieceSize: 100, Size: 6*100 + 10}
	for _, h := range hashes {
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: h})
	}
	tests := []struct {
		name      string
		missing   []int
		wantIdx   []int         // the items' indexes, in order
		wantLen   []int         // the items' lengths
		wantMore  map[int][]int // by item index: further indexes
		wantError bool
	}{
		{"all", []int{0, 1, 2, 3, 4, 5, 6}, []int{0, 1, 3}, []int{100, 100, 100}, map[int][]int{0: {2, 5}, 1: {4}, 3: {6}}, false},
		{"distinct", []int{1, 2, 6}, []int{1, 2, 6}, []int{100, 100, 10}, nil, false},
		{"one repeat", []int{3, 5, 6}, []int{3, 5}, []int{100, 100}, map[int][]int{3: {6}}, false},
		{"none", nil, nil, nil, nil, false},
		{"out of range", []int{0, 7}, nil, nil, nil, true},
		{"negative", []int{-1}, nil, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, more, err := workItems(m, tt.missing)
			if (err != nil) != tt.wantError {
				t.Fatalf("error %v, want error %v", err, tt.wantError)
			}
			if err != nil {
				return
			}
			var idx, lens []int
			gotMore := map[int][]int{}
			for _, it := range items {
				idx = append(idx, it.index)
				lens = append(lens, it.length)
				if it.hash != m.Pieces[it.index].Hash {
					t.Errorf("item at %d has the hash of another piece", it.index)
				}
				if ms := more[it]; ms != nil {
					gotMore[it.index] = ms
				}
			}
			if !slices.Equal(idx, tt.wantIdx) || !slices.Equal(lens, tt.wantLen) {
				t.Errorf("items at %v lengths %v, want %v %v", idx, lens, tt.wantIdx, tt.wantLen)
			}
			if len(gotMore) != len(tt.wantMore) {
				t.Errorf("further indexes %v, want %v", gotMore, tt.wantMore)
			}
			for i, w := range tt.wantMore {
				if !slices.Equal(gotMore[i], w) {
					t.Errorf("item %d: further indexes %v, want %v", i, gotMore[i], w)
				}
			}
		})
	}
}
