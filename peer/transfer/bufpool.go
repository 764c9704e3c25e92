package transfer

import (
	"math/bits"
	"sync"
)

// Buffer size classes: powers of two from 4 KiB to MaxPieceLen.
const (
	minClassShift = 12
	maxClassShift = 24
)

// bufPool reuses piece buffers by power-of-two size class, so steady-state
// transfers allocate nothing per piece. The zero value is not usable; use
// newBufPool.
type bufPool struct {
	classes [maxClassShift - minClassShift + 1]sync.Pool
}

func newBufPool() *bufPool { return &bufPool{} }

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// get returns a buffer of length n (0 < n <= MaxPieceLen).
func (p *bufPool) get(n int) []byte {
	c := classOf(n)
	if c >= len(p.classes) {
		return make([]byte, n)
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<(c+minClassShift))
}

// put returns a buffer obtained from get. The caller must not use it after.
func (p *bufPool) put(b []byte) {
	c := classOf(cap(b))
	if c >= len(p.classes) || cap(b) != 1<<(c+minClassShift) {
		return
	}
	b = b[:cap(b)]
	p.classes[c].Put(&b)
}
