package delta

import (
	"math/rand/v2"

	"github.com/dartsync/dartsync/manifest"
)

// randBytes returns n pseudo-random bytes from seed.
func randBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// manifestOf builds the manifest of data with the given piece size, the way
// the manifest builder does (weak checksum and BLAKE3 per piece).
func manifestOf(data []byte, pieceSize int) *manifest.Manifest {
	m := &manifest.Manifest{Size: int64(len(data)), PieceSize: int64(pieceSize)}
	for off := 0; off < len(data); off += pieceSize {
		p := data[off:min(off+pieceSize, len(data))]
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash(p), Weak: manifest.WeakSum(p)})
	}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	return m
}

// all returns the indices 0..n-1.
func all(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// splice returns b with b[at:at+del] replaced by ins.
func splice(b []byte, at, del int, ins []byte) []byte {
	out := make([]byte, 0, len(b)-del+len(ins))
	out = append(out, b[:at]...)
	out = append(out, ins...)
	return append(out, b[at+del:]...)
}

// tweak changes p at i, i+1, i+2 by +1, -2, +1: the weak checksum of any
// window containing all three stays the same (a and b both gain 0), but the
// bytes differ. It requires p[i], p[i+2] < 255 and p[i+1] >= 2.
func tweak(p []byte, i int) {
	p[i]++
	p[i+1] -= 2
	p[i+2]++
}

// tweakable finds an i where tweak applies.
func tweakable(p []byte) int {
	for i := 0; i+2 < len(p); i++ {
		if p[i] < 255 && p[i+1] >= 2 && p[i+2] < 255 {
			return i
		}
	}
	panic("no tweakable position")
}
