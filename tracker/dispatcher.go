package tracker

import (
	"context"
	"sync"
)

// dispatcher calls the Handler from one goroutine in push order. Its queue
// is unbounded so that a Handler calling Update can never deadlock the
// reader that delivers Update's answer.
type dispatcher struct {
	h      Handler
	mu     sync.Mutex
	queue  []func(Handler)
	signal chan struct{}
}

func newDispatcher(h Handler) *dispatcher {
	return &dispatcher{h: h, signal: make(chan struct{}, 1)}
}

func (d *dispatcher) push(f func(Handler)) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
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
			for _, f := range q {
				if ctx.Err() != nil {
					return
				}
				f(d.h)
			}
		}
	}
}
