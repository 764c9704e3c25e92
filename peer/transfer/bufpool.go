package transfer

import (
	"math/bits"
	"sync"
	"time"
)

// Buffer size classes: powers of two from 4 KiB to MaxPieceLen. Classes
// from 64 KiB up are mapped outside the Go heap where the platform allows
// (mapBuf).
const (
	minClassShift     = 12
	maxClassShift     = 24
	offHeapClassShift = 16
	numClasses        = maxClassShift - minClassShift + 1
	numHeapClasses    = offHeapClassShift - minClassShift
)

// bufIdle is how long a large buffer may wait unused on the free list before
// it is given back to the operating system.
const bufIdle = 5 * time.Second

// bufPool reuses piece buffers by power-of-two size class, so steady-state
// transfers allocate nothing per piece.
//
// Small classes come from a sync.Pool. Large ones (piece buffers of 64 KiB
// and more: the bulk of a transfer's memory) are mapped outside the Go heap
// on Unix and kept on a free list: outside the heap they neither raise the
// garbage collector's heap goal nor leave freed-but-resident spans behind
// after a long transfer, so a peer's memory is the same for a 64 MiB file
// and a 1 GiB one (issue 4). The free list is last-in first-out: the
// buffers a transfer's concurrency needs stay in use, and any buffer left
// unused for bufIdle is unmapped. A buffer is unmapped only while it is on
// the free list, so a caller that respects put's contract never touches
// unmapped memory.
//
// The zero value is not usable; use newBufPool. close releases the free
// buffers and stops the idle timer; buffers put back after close are
// released at once.
type bufPool struct {
	small [numHeapClasses]sync.Pool

	mu     sync.Mutex
	free   [numClasses - numHeapClasses][]freeBuf // large classes, LIFO
	timer  *time.Timer                            // idle release; nil until the first put
	armed  bool
	closed bool
	now    func() time.Time // the clock; tests move it
}

// freeBuf is a large buffer on the free list and when it was put there.
type freeBuf struct {
	b     []byte
	since time.Time
}

func newBufPool() *bufPool { return &bufPool{now: time.Now} }

func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// get returns a buffer of length n (0 < n <= MaxPieceLen).
func (p *bufPool) get(n int) []byte {
	c := classOf(n)
	switch {
	case c >= numClasses:
		return make([]byte, n)
	case c < numHeapClasses:
		if b, ok := p.small[c].Get().(*[]byte); ok {
			return (*b)[:n]
		}
		return make([]byte, n, 1<<(c+minClassShift))
	}
	l := c - numHeapClasses
	p.mu.Lock()
	if k := len(p.free[l]); k > 0 {
		b := p.free[l][k-1].b
		p.free[l][k-1] = freeBuf{}
		p.free[l] = p.free[l][:k-1]
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return mapBuf(1 << (c + minClassShift))[:n]
}

// put returns a buffer obtained from get. The caller must not use it after.
func (p *bufPool) put(b []byte) {
	c := classOf(cap(b))
	if c >= numClasses || cap(b) != 1<<(c+minClassShift) {
		return
	}
	b = b[:cap(b)]
	if c < numHeapClasses {
		p.small[c].Put(&b)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		unmapBuf(b)
		return
	}
	l := c - numHeapClasses
	p.free[l] = append(p.free[l], freeBuf{b: b, since: p.now()})
	if !p.armed {
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(bufIdle, p.releaseIdle)
		} else {
			p.timer.Reset(bufIdle)
		}
	}
	p.mu.Unlock()
}

// releaseIdle unmaps the buffers that have been free for bufIdle or longer
// and re-arms the timer while any free buffer is left.
func (p *bufPool) releaseIdle() {
	var idle [][]byte
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	cutoff := p.now().Add(-bufIdle)
	left := false
	for l, list := range p.free {
		k := 0 // the oldest are at the bottom
		for k < len(list) && !list[k].since.After(cutoff) {
			idle = append(idle, list[k].b)
			k++
		}
		p.free[l] = append(list[:0], list[k:]...)
		clear(list[len(p.free[l]):])
		left = left || len(p.free[l]) > 0
	}
	p.armed = left
	if left {
		p.timer.Reset(bufIdle)
	}
	p.mu.Unlock()
	for _, b := range idle {
		unmapBuf(b)
	}
}

// close releases every free buffer and stops the idle timer. Buffers still
// out are released when they are put back.
func (p *bufPool) close() {
	var all [][]byte
	p.mu.Lock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	for l, list := range p.free {
		for _, f := range list {
			all = append(all, f.b)
		}
		p.free[l] = nil
	}
	p.mu.Unlock()
	for _, b := range all {
		unmapBuf(b)
	}
}
