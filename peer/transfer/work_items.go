package transfer

import (
	"fmt"

	"github.com/dartsync/dartsync/manifest"
)

// workItems groups the missing indexes of m by piece hash, in the order of
// missing (file order, from Sink.Missing): one item per distinct hash
// (allocated together), and for the hashes that occur more than once,
// their indexes after the first.
//
// Identical pieces are found with manifest.Repeats (a sort of the
// positions by hash, not a map from hash to item).
func workItems(m *manifest.Manifest, missing []int) ([]*item, map[*item][]int, error) {
	for _, i := range missing {
		if i < 0 || i >= len(m.Pieces) {
			return nil, nil, fmt.Errorf("fetch %s: sink reports missing piece %d of %d", m.Path, i, len(m.Pieces))
		}
		if n := m.PieceLen(i); n <= 0 || n > MaxPieceLen {
			return nil, nil, fmt.Errorf("fetch %s: piece %d has length %d", m.Path, i, n)
		}
	}
	reps := manifest.Repeats(len(missing), func(k int) *manifest.ID { return &m.Pieces[missing[k]].Hash })

	all := make([]item, 0, len(missing)-len(reps)) // never grows: the pointers below stay valid
	items := make([]*item, 0, cap(all))
	var itemAt []int32 // by position: the item of a first position (only with duplicates)
	if len(reps) > 0 {
		itemAt = make([]int32, len(missing))
	}
	r := 0
	for k, i := range missing {
		if r < len(reps) && int(reps[r].Pos) == k {
			r++ // a further index of an earlier item
			continue
		}
		if itemAt != nil {
			itemAt[k] = int32(len(all))
		}
		all = append(all, item{hash: m.Pieces[i].Hash, length: int(m.PieceLen(i)), index: i})
		items = append(items, &all[len(all)-1])
	}
	var more map[*item][]int
	if len(reps) > 0 {
		// reps is by position: each item's further indexes keep the order
		// of missing.
		more = make(map[*item][]int)
		for _, p := range reps {
			it := &all[itemAt[p.First]]
			more[it] = append(more[it], missing[p.Pos])
		}
	}
	return items, more, nil
}
