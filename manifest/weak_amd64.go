package manifest

import "golang.org/x/sys/cpu"

// weakBlocksAVX2 processes len(p)/32 blocks of 32 bytes and stores its lane
// accumulators in acc: acc[0:4] the byte sums a, acc[4:8] Σ over blocks of a
// before the block, acc[8:12] eight uint32 lanes of Σ (32-t)·x_t.
//
//go:noescape
func weakBlocksAVX2(p []byte, acc *[12]uint64)

// weakSum is WeakSum's implementation: AVX2 where the CPU has it.
func weakSum(p []byte) uint32 {
	if !cpu.X86.HasAVX2 || len(p) < 64 {
		return weakGeneric(p)
	}
	var acc [12]uint64
	n := len(p) &^ 31
	weakBlocksAVX2(p[:n], &acc)
	var a, s, w uint64
	for i := range 4 {
		a += acc[i]
		s += acc[4+i]
		w += acc[8+i]&0xffffffff + acc[8+i]>>32
	}
	av, bv := weakGenericAB(uint32(a), uint32(32*s+w), p[n:])
	return (av & 0xffff) | (bv&0xffff)<<16
}
