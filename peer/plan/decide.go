package plan

import (
	"cmp"
	"slices"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/manifest"
)

// Source is where a step of a plan takes its piece from, cheapest first.
type Source uint8

const (
	// Store: the chunk store holds the hash (a complete file or a partial,
	// this one's old version or any other); 0 network bytes.
	Store Source = iota + 1
	// Twin: an earlier missing piece with the same hash has the same
	// source; writing that one fills this one too.
	Twin
	// Search: the rolling search is to look for it in the basis (a plan
	// decided before the search ran).
	Search
	// Found: the rolling search found it in the basis, at Step.Off;
	// 0 network bytes.
	Found
	// Delta: rebuilt from a piece delta against the basis bytes
	// [Step.Off, Step.Off+Step.Len), fetched from a source.
	Delta
	// Whole: fetched whole from the sources.
	Whole
)

func (s Source) String() string {
	switch s {
	case Store:
		return "store"
	case Twin:
		return "twin"
	case Search:
		return "search"
	case Found:
		return "found"
	case Delta:
		return "delta"
	case Whole:
		return "whole"
	}
	return "unknown"
}

// minDeltaPiece: a piece shorter than this is fetched whole (a signature
// and a round trip of its own buy nothing).
const minDeltaPiece = 4 << 10

// maxInPlaceRun is the longest run of changed pieces splitInPlace takes for
// an edit in place. Longer runs between unchanged pieces may hold shifted
// data (an insertion and a later deletion), which the rolling search finds.
const maxInPlaceRun = 2

// Input is what Decide decides from: plain values, no I/O.
type Input struct {
	Manifest *manifest.Manifest // the wanted version
	Missing  []int              // its pieces not in the partial yet, ascending
	Stored   []bool             // Stored[k]: the chunk store holds the hash of Missing[k]
	// Old is the basis's own manifest: the version at the path in the
	// index (nil: none, a directory, a tombstone or an empty file).
	Old *manifest.Manifest
	// BasisSize is the size of the basis as opened (0: no basis to read).
	BasisSize int64
	// Searched: the rolling search ran; Found is what it found (one
	// match per piece found, sorted by piece index, as delta.FindKnown
	// returns them). Before it ran, the pieces it
	// is to look for are planned as Search.
	Searched bool
	Found    []delta.Match
}

// Step is the plan of one missing piece.
type Step struct {
	Piece int // index in the manifest
	From  Source
	// Found: Off is the piece's offset in the basis. Delta: the basis
	// bytes to sign are [Off, Off+Len).
	Off, Len int64
}

// Plan is one step per missing piece, by piece index.
type Plan struct{ Steps []Step }

// Pieces returns the indexes of the steps from src, ascending.
func (p Plan) Pieces(src Source) []int {
	var out []int
	for _, s := range p.Steps {
		if s.From == src {
			out = append(out, s.Piece)
		}
	}
	return out
}

// Decide plans every missing piece of in.Manifest, cheapest source first:
//
//   - Store when the chunk store holds its hash;
//   - without a basis (no old version, or nothing to read): Whole;
//   - edited in place (splitInPlace: its old bytes are at its own offset):
//     Delta against them at once, no search;
//   - the others: Search before the search; then Found where it found
//     them, else Delta against the basis bytes delta.BasisRange suggests;
//   - Whole for a piece shorter than minDeltaPiece or with no basis bytes
//     at its place.
//
// One entry per hash (manifest.Distinct): of the pieces with one hash and
// one source, the first keeps it and the others are Twin.
func Decide(in Input) Plan {
	m := in.Manifest
	steps := make([]Step, len(in.Missing))
	var rest []int // missing pieces the chunk store does not hold
	for k, i := range in.Missing {
		steps[k] = Step{Piece: i, From: Whole}
		if k < len(in.Stored) && in.Stored[k] {
			steps[k].From = Store
		} else {
			rest = append(rest, i)
		}
	}
	if in.Old != nil && in.BasisSize > 0 && len(rest) > 0 {
		inPlace, search := splitInPlace(in.Old, m, rest)
		at := func(i int) *Step { // the step of piece i (Missing is ascending)
			k, _ := slices.BinarySearch(in.Missing, i)
			return &steps[k]
		}
		for _, i := range inPlace {
			*at(i) = deltaStep(m, nil, i, in.BasisSize)
		}
		for _, i := range search {
			k, ok := slices.BinarySearchFunc(in.Found, i, func(mt delta.Match, i int) int { return cmp.Compare(mt.Piece, i) })
			switch {
			case !in.Searched:
				*at(i) = Step{Piece: i, From: Search}
			case ok:
				*at(i) = Step{Piece: i, From: Found, Off: in.Found[k].Offset, Len: m.PieceLen(i)}
			default:
				*at(i) = deltaStep(m, in.Found, i, in.BasisSize)
			}
		}
	}
	markTwins(m, steps)
	return Plan{Steps: steps}
}

// deltaStep is the Delta step of piece i against a basis of size bytes,
// or Whole when a delta cannot pay.
func deltaStep(m *manifest.Manifest, found []delta.Match, i int, size int64) Step {
	if m.PieceLen(i) < minDeltaPiece {
		return Step{Piece: i, From: Whole}
	}
	off, n := delta.BasisRange(m, found, i, size)
	if n == 0 {
		return Step{Piece: i, From: Whole}
	}
	return Step{Piece: i, From: Delta, Off: off, Len: n}
}

// markTwins turns every Store, Found or Delta step whose hash an earlier
// step from the same source has into Twin.
func markTwins(m *manifest.Manifest, steps []Step) {
	for _, src := range []Source{Store, Found, Delta} {
		var pos, idx []int
		for k, s := range steps {
			if s.From == src {
				pos, idx = append(pos, k), append(idx, s.Piece)
			}
		}
		reps := manifest.Repeats(len(idx), func(k int) *manifest.ID { return &m.Pieces[idx[k]].Hash })
		for _, r := range reps {
			steps[pos[r.Pos]] = Step{Piece: idx[r.Pos], From: Twin}
		}
	}
}

// splitInPlace splits want (pieces of m to get) into those edited in place
// and the others. A piece is edited in place when both versions have the
// same piece size and it lies in a run of at most maxInPlaceRun changed
// pieces that starts at the beginning of the file or after a piece both
// versions have at the same index, and ends before such a piece or at the
// end of both versions, which have the same size. Its old bytes are then at
// its own offset: the rolling search has nothing to find and is not run
// over it (a piece copied there from elsewhere in the file is the only
// loss, and its delta still costs little).
func splitInPlace(old, m *manifest.Manifest, want []int) (inPlace, search []int) {
	if old.PieceSize != m.PieceSize {
		return nil, want
	}
	n := min(len(old.Pieces), len(m.Pieces))
	same := func(i int) bool { return i < n && old.Pieces[i].Hash == m.Pieces[i].Hash }
	sameEnd := old.Size == m.Size
	ok := make([]bool, len(m.Pieces))
	for s := 0; s < len(m.Pieces); {
		if same(s) {
			s++
			continue
		}
		e := s
		for e < len(m.Pieces) && !same(e) {
			e++
		}
		if e-s <= maxInPlaceRun && ((e < n) || (e == len(m.Pieces) && sameEnd)) {
			for i := s; i < e; i++ {
				ok[i] = true
			}
		}
		s = e
	}
	for _, i := range want {
		if i >= 0 && i < len(ok) && ok[i] {
			inPlace = append(inPlace, i)
		} else {
			search = append(search, i)
		}
	}
	return inPlace, search
}
