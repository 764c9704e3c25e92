package manifest

import (
	"bytes"
	"cmp"
	"slices"
)

// Repeat is a position of a list of pieces whose hash an earlier position
// of the list already has: First is that earliest position.
type Repeat struct{ First, Pos int32 }

// Repeats is "one entry per hash" for a list of n pieces whose k-th piece
// has the hash at(k): it returns every position that repeats the hash of an
// earlier one, with the first position of that hash, ordered by Pos; nil
// when all hashes differ. The positions not returned are the distinct
// hashes, each at its first position.
//
// It sorts the positions by hash rather than building a map from hash to
// position: a map costs ~170 bytes per piece while it is built (170 MB for
// a file of a million pieces), the sort 4.
func Repeats(n int, at func(k int) *ID) []Repeat {
	if n < 2 {
		return nil
	}
	byHash := make([]int32, n) // positions, by hash, then position
	for k := range byHash {
		byHash[k] = int32(k)
	}
	slices.SortFunc(byHash, func(a, b int32) int {
		if c := bytes.Compare(at(int(a))[:], at(int(b))[:]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	// In each run of equal hashes the first position is the hash's; the
	// others repeat it.
	var out []Repeat
	for r := 0; r < len(byHash); {
		e := r + 1
		for e < len(byHash) && *at(int(byHash[e])) == *at(int(byHash[r])) {
			out = append(out, Repeat{First: byHash[r], Pos: byHash[e]})
			e++
		}
		r = e
	}
	slices.SortFunc(out, func(a, b Repeat) int { return cmp.Compare(a.Pos, b.Pos) })
	return out
}

// Distinct returns the indexes of idx (pieces of m) whose hash no earlier
// index of idx has, in the order of idx: one entry per hash.
func Distinct(m *Manifest, idx []int) []int {
	reps := Repeats(len(idx), func(k int) *ID { return &m.Pieces[idx[k]].Hash })
	if len(reps) == 0 {
		return idx
	}
	out := make([]int, 0, len(idx)-len(reps))
	r := 0
	for k, i := range idx {
		if r < len(reps) && int(reps[r].Pos) == k {
			r++
			continue
		}
		out = append(out, i)
	}
	return out
}
