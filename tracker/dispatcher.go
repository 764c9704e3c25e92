package tracker

import (
	"context"
	"sync"
	"time"
)

// maxQueuedEntries bounds the pushed file entries waiting for the Handler
// (readLoop waits for room; see dispatcher.waitRoom): a peer catching up on
// a million changes holds a few messages of them, not all of them, and the
// tracker is held back by flow control instead.
const maxQueuedEntries = 4096

// roomPoll is how often a reader waiting for room looks again.
const roomPoll = 2 * time.Millisecond

// dispatcher calls the Handler from one goroutine in push order. Pushes
// never block; the reader waits for room before it pushes file updates
// (waitRoom), but never while a request is waiting for its answer: a
// Handler that calls Update from the dispatcher's goroutine waits for an
// answer only the reader can deliver, so while any request is pending the
// queue may grow past the bound rather than deadlock.
type dispatcher struct {
	h       Handler
	mu      sync.Mutex
	queue   []queued
	entries int // file entries in queue or being handled
	signal  chan struct{}
}

// queued is one Handler call and the file entries it carries.
type queued struct {
	f       func(Handler)
	entries int
}

func newDispatcher(h Handler) *dispatcher {
	return &dispatcher{h: h, signal: make(chan struct{}, 1)}
}

func (d *dispatcher) push(f func(Handler)) { d.pushEntries(0, f) }

// pushEntries queues f, which carries n file entries.
func (d *dispatcher) pushEntries(n int, f func(Handler)) {
	d.mu.Lock()
	d.queue = append(d.queue, queued{f: f, entries: n})
	d.entries += n
	d.mu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
	}
}

// waitRoom returns once fewer than maxQueuedEntries file entries wait, or
// at once while awaiting() (a request waits for its answer), or when done
// is closed (false).
func (d *dispatcher) waitRoom(awaiting func() bool, done <-chan struct{}) bool {
	for {
		d.mu.Lock()
		room := d.entries < maxQueuedEntries
		d.mu.Unlock()
		if room || awaiting() {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(roomPoll):
		}
	}
}

func (d *dispatcher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.signal:
		}
		for {
			d.mu.Lock()
			q := d.queue
			d.queue = nil
			d.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for i, x := range q {
				if ctx.Err() != nil {
					return
				}
				x.f(d.h)
				q[i].f = nil // the entries it holds can go
				if x.entries > 0 {
					d.mu.Lock()
					d.entries -= x.entries
					d.mu.Unlock()
				}
			}
		}
	}
}
