// Package groupcommit coalesces concurrent writes into shared commits.
//
// Terms:
//
//   - Request: one caller's write, handed to Group.Do, which returns once
//     the request is committed (or failed).
//   - Batch: the requests one commit carries, in the order they were
//     queued. Every request is in exactly one successful commit or gets an
//     error.
//   - Leader: the caller that runs a commit. A caller that queues while no
//     commit runs leads at once (a lone write waits for nothing); a caller
//     that queues during a commit waits. When a commit ends, the lead passes
//     to the oldest waiting request, whose batch starts with its own
//     request; so no caller commits for others more than once, and under
//     load one commit (one fsync) serves many requests.
//   - Bound: Options.MaxWeight caps the summed weight of one batch; the
//     leader's own request is always in its batch, whatever its weight.
//   - Isolation: when a commit of several requests fails because of one of
//     them (the commit function returns a *CallError), each request of the
//     batch is committed again alone, so every caller gets its own result.
//     Any other error fails the whole batch.
package groupcommit

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Options tunes a Group. The zero value batches every queued request.
type Options[R any] struct {
	// MaxWeight bounds the summed Weight of the requests of one batch; 0
	// means no bound.
	MaxWeight int
	// Weight is a request's share of MaxWeight; nil counts 1 a request.
	Weight func(R) int
}

// CallError is what a commit function returns when the request at Index of
// its batch failed by itself (the others might commit without it). A batch
// of several requests is then committed again one request at a time.
type CallError struct {
	Index int
	Err   error
}

func (e *CallError) Error() string { return fmt.Sprintf("request %d: %v", e.Index, e.Err) }
func (e *CallError) Unwrap() error { return e.Err }

// Group runs commit on batches of concurrent requests, one commit at a
// time. It is safe for concurrent use.
type Group[R any] struct {
	commit func(batch []R) error
	opt    Options[R]

	mu      sync.Mutex // guards queue and leading; never held across commit
	queue   []*call[R]
	leading bool // a leader is committing
}

// call is one request waiting in the queue.
type call[R any] struct {
	req  R
	err  error
	done chan struct{} // closed when committed or failed
	lead chan struct{} // receives the lead of the next commit
}

// New returns a Group whose commits run commit(batch). commit must apply the
// batch's requests in order, all or none (one transaction), and leave a
// request's own results in the request itself; it may be called again with
// a single request of a batch it failed (see CallError).
func New[R any](commit func(batch []R) error, opt Options[R]) *Group[R] {
	return &Group[R]{commit: commit, opt: opt}
}

// Do queues r and returns once it is committed: nil, or the error of the
// commit that carried it (with a *CallError unwrapped to its Err when r was
// committed alone).
func (g *Group[R]) Do(r R) error {
	c := &call[R]{req: r, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.leading {
		g.leading = true
		c.lead <- struct{}{}
	}
	g.mu.Unlock()
	select {
	case <-c.done: // committed in another caller's batch
		return c.err
	case <-c.lead:
	}
	g.mu.Lock()
	batch := g.take() // c is queue[0]: its own request comes first
	g.mu.Unlock()
	g.run(batch)
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return c.err
}

// take removes the next batch from the queue: its head and the requests
// after it that fit the bound. The caller holds mu.
func (g *Group[R]) take() []*call[R] {
	n := 1
	if g.opt.MaxWeight > 0 {
		total := g.weight(g.queue[0].req)
		for n < len(g.queue) && total+g.weight(g.queue[n].req) <= g.opt.MaxWeight {
			total += g.weight(g.queue[n].req)
			n++
		}
	} else {
		n = len(g.queue)
	}
	batch := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	return batch
}

func (g *Group[R]) weight(r R) int {
	if g.opt.Weight == nil {
		return 1
	}
	return g.opt.Weight(r)
}

// run commits batch and completes its calls.
func (g *Group[R]) run(batch []*call[R]) {
	reqs := make([]R, len(batch))
	for i, c := range batch {
		reqs[i] = c.req
	}
	err := g.commit(reqs)
	var ce *CallError
	if err != nil && len(batch) > 1 && errors.As(err, &ce) {
		for _, c := range batch { // isolate the failing request
			c.err = g.commit([]R{c.req})
			if errors.As(c.err, &ce) {
				c.err = ce.Err
			}
			close(c.done)
		}
		return
	}
	if errors.As(err, &ce) {
		err = ce.Err
	}
	for _, c := range batch {
		c.err = err
		close(c.done)
	}
}
