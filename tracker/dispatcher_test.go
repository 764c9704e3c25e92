package tracker

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedHandler blocks in Updates until gate is closed.
type gatedHandler struct {
	gate    chan struct{}
	entries atomic.Int64
}

func (g *gatedHandler) Registered(RegisterInfo) {}
func (g *gatedHandler) PeersChanged([]PeerInfo) {}
func (g *gatedHandler) Updates(es []Entry)      { <-g.gate; g.entries.Add(int64(len(es))) }
func (g *gatedHandler) queuedEntries(d *dispatcher) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.entries
}

// TestDispatcherBoundsQueuedEntries: while the Handler is slow, a reader
// that waits for room queues at most maxQueuedEntries (plus the message in
// hand); a request awaiting its answer lets the reader on (a Handler that
// calls Update must not deadlock); every entry is handled in the end.
func TestDispatcherBoundsQueuedEntries(t *testing.T) {
	h := &gatedHandler{gate: make(chan struct{})}
	d := newDispatcher(h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { d.run(ctx) })
	defer wg.Wait()
	defer cancel()

	const msg, msgs = 1000, 20
	var awaiting atomic.Bool
	pushed := make(chan int, msgs)
	wg.Go(func() {
		for i := range msgs {
			if !d.waitRoom(awaiting.Load, ctx.Done()) {
				return
			}
			d.pushEntries(msg, func(h Handler) { h.Updates(make([]Entry, msg)) })
			pushed <- i
		}
	})
	// The reader stops at the bound while the Handler holds the first
	// message.
	var n int
	for stalled := false; !stalled; {
		select {
		case <-pushed:
			n++
		case <-time.After(300 * time.Millisecond):
			stalled = true
		}
	}
	if q := h.queuedEntries(d); q > maxQueuedEntries+msg || n == msgs {
		t.Fatalf("%d messages pushed, %d entries queued while the Handler was blocked; bound %d", n, q, maxQueuedEntries)
	}
	// A pending request lets the reader on, past the bound.
	awaiting.Store(true)
	select {
	case <-pushed:
		n++
	case <-time.After(10 * time.Second):
		t.Fatal("the reader kept waiting while a request awaited its answer")
	}
	awaiting.Store(false)
	close(h.gate)
	for n < msgs {
		<-pushed
		n++
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.entries.Load() != msg*msgs {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries handled, want %d", h.entries.Load(), msg*msgs)
		}
		time.Sleep(time.Millisecond)
	}
	if q := h.queuedEntries(d); q != 0 {
		t.Fatalf("%d entries still counted as queued", q)
	}
}
