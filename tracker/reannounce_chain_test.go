package tracker

import (
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestChainOrder: how chainOrder orders a re-announced version m (with its
// ancestors) and the current version c (with the path's chain) when each is
// in the other's past; 0 (unknown) whenever a chain is missing, possibly
// truncated, or the two disagree, so R5 decides as before.
func TestChainOrder(t *testing.T) {
	x, d := manifest.Hash([]byte("x")), manifest.Hash([]byte("deleted x"))
	a, b := manifest.Hash([]byte("a")), manifest.Hash([]byte("b"))
	long := func(n int) []manifest.ID { // x d x d ... (n IDs)
		ids := make([]manifest.ID, n)
		for i := range ids {
			ids[i] = x
			if i%2 == 1 {
				ids[i] = d
			}
		}
		return ids
	}
	tests := []struct {
		name  string
		m     manifest.ID
		anc   []manifest.ID
		c     manifest.ID
		chain []manifest.ID
		want  int
	}{
		{"peer ahead: x d x d vs x d x", d, []manifest.ID{x, d, x}, x, []manifest.ID{d, x}, 1},
		{"peer behind: x d vs x d x", d, []manifest.ID{x}, x, []manifest.ID{d, x}, -1},
		{"peer behind by two: x d x d vs x d x d x", d, []manifest.ID{x, d, x}, x, []manifest.ID{d, x, d, x}, -1},
		{"live ahead: a b a b vs a b a", b, []manifest.ID{a, b, a}, a, []manifest.ID{b, a}, 1},
		{"live behind: a b vs a b a", b, []manifest.ID{a}, a, []manifest.ID{b, a}, -1},
		{"same length, different pasts", b, []manifest.ID{a, x}, a, []manifest.ID{b, d}, 0},
		{"the path's chain unknown", d, []manifest.ID{x, d, x}, x, nil, 0},
		{"the peer's ancestry lost a repeat", d, []manifest.ID{x, d}, x, []manifest.ID{d, x}, 0},
		{"the path's chain possibly truncated", d, long(maxHistory + 1), x, long(maxHistory + 1)[1:], 0},
		{"the peer's ancestry possibly truncated", d, long(maxHistory), x, long(maxHistory + 3)[1:], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chainOrder(tt.m, tt.anc, tt.c, tt.chain); got != tt.want {
				t.Errorf("chainOrder = %d, want %d", got, tt.want)
			}
		})
	}
}
