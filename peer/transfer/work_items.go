package transfer

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/dartsync/dartsync/manifest"
)

// workItems groups the missing indexes of m by piece hash, in the order of
// missing (file order, from Sink.Missing): one item per distinct hash
// (allocated together), and for the hashes that occur more than once,
// their indexes after the first.
//
// Identical pieces are found by sorting the positions by hash rather than
// with a map from hash to item: a map costs ~170 bytes per piece while it
// is built (170 MB for a file of a million pieces), the sort 5.
func workItems(m *manifest.Manifest, missing []int) ([]*item, map[*item][]int, error) {
	for _, i := range missing {
		if i < 0 || i >= len(m.Pieces) {
			return nil, nil, fmt.Errorf("fetch %s: sink reports missing piece %d of %d", m.Path, i, len(m.Pieces))
		}
		if n := m.PieceLen(i); n <= 0 || n > MaxPieceLen {
			return nil, nil, fmt.Errorf("fetch %s: piece %d has length %d", m.Path, i, n)
		}
	}
	hashAt := func(k int32) []byte { return m.Pieces[missing[k]].Hash[:] }
	byHash := make([]int32, len(missing)) // positions in missing, by hash, then position
	for k := range byHash {
		byHash[k] = int32(k)
	}
	slices.SortFunc(byHash, func(a, b int32) int {
		if c := bytes.Compare(hashAt(a), hashAt(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	// In each run of equal hashes the first position is the item's; the
	// others are its further indexes.
	first := make([]bool, len(missing))
	var later [][2]int32 // {first position, later position}
	for r := 0; r < len(byHash); {
		e := r + 1
		for e < len(byHash) && bytes.Equal(hashAt(byHash[e]), hashAt(byHash[r])) {
			later = append(later, [2]int32{byHash[r], byHash[e]})
			e++
		}
		first[byHash[r]] = true
		r = e
	}
	byHash = nil

	all := make([]item, 0, len(missing)-len(later)) // never grows: the pointers below stay valid
	items := make([]*item, 0, cap(all))
	var itemAt []int32 // by position: the item of a first position (only with duplicates)
	if len(later) > 0 {
		itemAt = make([]int32, len(missing))
	}
	for k, i := range missing {
		if !first[k] {
			continue
		}
		if itemAt != nil {
			itemAt[k] = int32(len(all))
		}
		all = append(all, item{hash: m.Pieces[i].Hash, length: int(m.PieceLen(i)), index: i})
		items = append(items, &all[len(all)-1])
	}
	var more map[*item][]int
	if len(later) > 0 {
		// later is in hash order; each item's further indexes keep the
		// order of missing: sort by the later position.
		slices.SortFunc(later, func(a, b [2]int32) int { return cmp.Compare(a[1], b[1]) })
		more = make(map[*item][]int)
		for _, p := range later {
			it := &all[itemAt[p[0]]]
			more[it] = append(more[it], missing[p[1]])
		}
	}
	return items, more, nil
}
