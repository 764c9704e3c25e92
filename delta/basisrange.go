package delta

import "github.com/dartsync/dartsync/manifest"

// BasisRange suggests which bytes of a basis of basisSize bytes to Sign for
// piece i of m when Find did not locate it. It starts where piece i-1 ends
// in the basis if Find located that piece (so the signed blocks line up with
// the new piece's unchanged front), else at the piece's own offset, and
// extends to where piece i+1 starts if Find located that one (after a
// deletion inside piece i, the old bytes it was made from are longer than
// the piece), and at least one piece length. The range is clamped to the
// basis and to MaxBasisLen; n is 0 when the basis has no bytes there.
func BasisRange(m *manifest.Manifest, matches []Match, i int, basisSize int64) (off, n int64) {
	if i < 0 || i >= len(m.Pieces) {
		return 0, 0
	}
	lo := m.PieceOffset(i)
	for _, mt := range matches {
		if mt.Piece == i-1 {
			lo = mt.Offset + m.PieceLen(i-1)
		}
	}
	hi := lo + m.PieceLen(i)
	for _, mt := range matches {
		if mt.Piece == i+1 && mt.Offset > hi {
			hi = mt.Offset
		}
	}
	lo, hi = max(lo, 0), min(hi, basisSize, lo+MaxBasisLen)
	if hi <= lo {
		return 0, 0
	}
	return lo, hi - lo
}
