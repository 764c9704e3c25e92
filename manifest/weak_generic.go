package manifest

import "encoding/binary"

// weakGeneric is the portable WeakSum. It uses the prefix form of b,
//
//	b = Σ (n-i)·x_i = Σ_k a_k   (a_k = x_0 + … + x_k),
//
// on 16-byte blocks: per block, b += 16·a_before + Σ_t (16-t)·x_t. Byte
// positions are kept in 32-bit lanes of uint64 words (SWAR) and folded every
// 1024 blocks, before a lane can overflow into its neighbour. Only the low 16
// bits of a and b are ever used, and every step is linear, so wrapping is
// harmless.
func weakGeneric(p []byte) uint32 {
	a, b := weakGenericAB(0, 0, p)
	return (a & 0xffff) | (b&0xffff)<<16
}

// weakGenericAB continues the prefix sums (a, b) over p.
func weakGenericAB(a, b uint32, p []byte) (uint32, uint32) {
	const m = 0x000000ff000000ff
	for len(p) >= 16 {
		blocks := min(len(p)/16, 1024)
		// l0..l3: positions t and t+4 of the first word, l4..l7: of the second.
		var l0, l1, l2, l3, l4, l5, l6, l7 uint64
		var s0, s1, s2, s3 uint64 // Σ over blocks of the lanes before the block
		q := p[:blocks*16]
		for len(q) >= 16 {
			w0 := binary.LittleEndian.Uint64(q)
			w1 := binary.LittleEndian.Uint64(q[8:])
			s0 += l0 + l4
			s1 += l1 + l5
			s2 += l2 + l6
			s3 += l3 + l7
			l0 += w0 & m
			l1 += (w0 >> 8) & m
			l2 += (w0 >> 16) & m
			l3 += (w0 >> 24) & m
			l4 += w1 & m
			l5 += (w1 >> 8) & m
			l6 += (w1 >> 16) & m
			l7 += (w1 >> 24) & m
			q = q[16:]
		}
		sum := func(v uint64) uint32 { return uint32(v) + uint32(v>>32) }
		// weighted: the low lane holds position t (weight 16-t), the high lane t+4.
		wt := func(v uint64, t uint32) uint32 { return uint32(v)*(16-t) + uint32(v>>32)*(12-t) }
		before := sum(s0) + sum(s1) + sum(s2) + sum(s3)
		inBlock := wt(l0, 0) + wt(l1, 1) + wt(l2, 2) + wt(l3, 3) + wt(l4, 8) + wt(l5, 9) + wt(l6, 10) + wt(l7, 11)
		b += uint32(blocks*16)*a + 16*before + inBlock
		a += sum(l0) + sum(l1) + sum(l2) + sum(l3) + sum(l4) + sum(l5) + sum(l6) + sum(l7)
		p = p[blocks*16:]
	}
	for _, x := range p {
		a += uint32(x)
		b += a
	}
	return a, b
}
