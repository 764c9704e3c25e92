package transfer

import (
	"sync"
	"testing"
	"time"
)

func TestBufPool(t *testing.T) {
	tests := []struct {
		n       int
		wantCap int
	}{
		{1, 4 << 10},
		{4 << 10, 4 << 10},
		{4<<10 + 1, 8 << 10},
		{64<<10 - 1, 64 << 10},
		{64 << 10, 64 << 10},
		{1 << 20, 1 << 20},
		{1<<20 + 1, 2 << 20},
		{MaxPieceLen, MaxPieceLen},
	}
	p := newBufPool()
	defer p.close()
	for _, tt := range tests {
		b := p.get(tt.n)
		if len(b) != tt.n || cap(b) != tt.wantCap {
			t.Errorf("get(%d): len %d cap %d, want len %d cap %d", tt.n, len(b), cap(b), tt.n, tt.wantCap)
		}
		b[0], b[len(b)-1] = 1, 2 // the memory is writable end to end
		p.put(b)
		b2 := p.get(tt.n)
		if len(b2) != tt.n || cap(b2) != tt.wantCap {
			t.Errorf("reused get(%d): len %d cap %d", tt.n, len(b2), cap(b2))
		}
		p.put(b2)
	}
	// Foreign buffers of a non-class capacity are not pooled.
	p.put(make([]byte, 5000))
	if b := p.get(5000); cap(b) != 8<<10 {
		t.Errorf("foreign buffer reused: cap %d", cap(b))
	}
}

// TestBufPoolLargeReuse: a large buffer put back is the next one handed out
// (last in, first out), so a steady transfer maps nothing new.
func TestBufPoolLargeReuse(t *testing.T) {
	p := newBufPool()
	defer p.close()
	a, b := p.get(1<<20), p.get(1<<20)
	if &a[0] == &b[0] {
		t.Fatal("two buffers out at once share memory")
	}
	p.put(a)
	p.put(b)
	if got := p.get(1 << 20); &got[0] != &b[0] {
		t.Error("the last buffer put back was not reused first")
	}
	if got := p.get(1 << 20); &got[0] != &a[0] {
		t.Error("the first buffer put back was not reused second")
	}
	if n := p.freeCount(); n != 0 {
		t.Errorf("%d buffers left on the free list, want 0", n)
	}
}

// TestBufPoolIdleRelease: buffers unused for bufIdle leave the free list
// (and are unmapped); buffers put back more recently stay.
func TestBufPoolIdleRelease(t *testing.T) {
	p := newBufPool()
	defer p.close()
	clock := time.Now()
	p.now = func() time.Time { return clock }
	old, recent := p.get(1<<20), p.get(256<<10)
	p.put(old)
	clock = clock.Add(bufIdle)
	p.put(recent)
	p.releaseIdle()
	if n := p.freeCount(); n != 1 {
		t.Fatalf("after the idle release %d buffers are free, want 1 (the recent one)", n)
	}
	if got := p.get(256 << 10); &got[0] != &recent[0] {
		t.Error("the recent buffer was released")
	}
	// A fresh buffer of the released class is usable.
	b := p.get(1 << 20)
	b[len(b)-1] = 1
	p.put(b)
	clock = clock.Add(2 * bufIdle)
	p.releaseIdle()
	if n := p.freeCount(); n != 0 {
		t.Errorf("after a second idle period %d buffers are free, want 0", n)
	}
}

// TestBufPoolClose: close empties the free list; a buffer put back after
// close is released at once, and the pool still hands out usable buffers.
func TestBufPoolClose(t *testing.T) {
	p := newBufPool()
	out, free := p.get(1<<20), p.get(1<<20)
	p.put(free)
	p.close()
	if n := p.freeCount(); n != 0 {
		t.Fatalf("%d buffers free after close, want 0", n)
	}
	out[0] = 1 // still ours until put back
	p.put(out)
	if n := p.freeCount(); n != 0 {
		t.Errorf("a buffer put back after close was kept (%d free)", n)
	}
	b := p.get(1 << 20)
	b[0] = 1
	p.put(b)
	p.releaseIdle() // a timer firing after close does nothing
}

// TestBufPoolConcurrent runs gets and puts from many goroutines (under
// -race this checks the free list's locking), with the idle release racing
// them.
func TestBufPoolConcurrent(t *testing.T) {
	p := newBufPool()
	defer p.close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				n := (64 << 10) << (i % 4)
				b := p.get(n)
				b[0], b[n-1] = byte(g), byte(i)
				if b[0] != byte(g) || b[n-1] != byte(i) {
					t.Errorf("buffer changed under its owner")
					return
				}
				p.put(b)
				if i%50 == 0 {
					p.releaseIdle()
				}
			}
		}()
	}
	wg.Wait()
}

// freeCount is how many large buffers wait on the free list.
func (p *bufPool) freeCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, list := range p.free {
		n += len(list)
	}
	return n
}
