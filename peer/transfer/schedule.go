package transfer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// item is one work item: a distinct missing piece hash and every index of
// the file that holds it.
type item struct {
	hash     manifest.ID
	length   int
	indexes  []int
	done     bool
	queued   bool
	attempts []*attempt
	excluded []bool // by source index: the source said it does not have it
}

// attempt is one request of an item to one source.
type attempt struct {
	it     *item
	src    int
	start  time.Time
	ctx    context.Context
	cancel context.CancelFunc
}

// srcState is the scheduler's view of one source.
type srcState struct {
	dropped  error // non-nil once dropped for this file
	excluded int   // not-done items this source does not have
	stats    SourceStats
}

// scheduler hands work items to source workers: waiting items first (in
// file order, re-queued ones at the front), then endgame duplicates. All
// methods are safe for concurrent use; none blocks while holding the mutex.
type scheduler struct {
	maxDup int

	mu        sync.Mutex
	pending   []*item // waiting items; may hold items that are done or no longer queued
	active    map[*item]struct{}
	remaining int // items not done
	srcs      []srcState
	changed   chan struct{} // closed and replaced on every state change
	dups      int
}

func newScheduler(items []*item, srcs []Source, maxDup int) *scheduler {
	s := &scheduler{
		maxDup:    max(maxDup, 1),
		pending:   slices.Clone(items),
		active:    make(map[*item]struct{}),
		remaining: len(items),
		srcs:      make([]srcState, len(srcs)),
		changed:   make(chan struct{}),
	}
	for i := range srcs {
		s.srcs[i].stats.ID = srcs[i].ID
	}
	for _, it := range items {
		it.queued = true
		it.excluded = make([]bool, len(srcs))
	}
	return s
}

// broadcast wakes every waiting worker. Called with mu held.
func (s *scheduler) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// next returns the next attempt for source si, waiting until there is one.
// busy reports how many requests the source has in flight; endgame
// duplicates go only to idle sources, so a fast source takes over a slow
// source's last pieces without doubling the whole tail of the file. It
// returns nil when the source has nothing left to do for this file (all
// done, source dropped, or it lacks every remaining piece) or ctx ends. The
// attempt's context derives from ctx.
func (s *scheduler) next(ctx context.Context, si int, busy func() int) *attempt {
	for {
		s.mu.Lock()
		st := &s.srcs[si]
		if s.remaining == 0 || st.dropped != nil || st.excluded >= s.remaining {
			s.mu.Unlock()
			return nil
		}
		if it := s.popPending(si); it != nil {
			a := s.start(ctx, it, si)
			s.mu.Unlock()
			return a
		}
		if busy() == 0 {
			if it := s.endgameItem(si); it != nil {
				s.dups++
				a := s.start(ctx, it, si)
				s.mu.Unlock()
				return a
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil
		}
	}
}

// popPending removes and returns the first waiting item si may serve.
func (s *scheduler) popPending(si int) *item {
	for i := 0; i < len(s.pending); i++ {
		it := s.pending[i]
		if it.done || !it.queued {
			// Stale entry (done meanwhile): forget it.
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			i--
			continue
		}
		if it.excluded[si] {
			continue
		}
		if i == 0 {
			s.pending = s.pending[1:]
		} else {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
		}
		it.queued = false
		return it
	}
	return nil
}

// endgameItem picks an outstanding item of other sources for si to
// duplicate: fewest attempts first, then the oldest.
func (s *scheduler) endgameItem(si int) *item {
	var best *item
	var bestStart time.Time
	for it := range s.active {
		if it.done || it.excluded[si] || len(it.attempts) >= s.maxDup || len(it.attempts) == 0 {
			continue
		}
		mine := false
		for _, a := range it.attempts {
			mine = mine || a.src == si
		}
		if mine {
			continue
		}
		first := it.attempts[0].start
		if best == nil || len(it.attempts) < len(best.attempts) ||
			(len(it.attempts) == len(best.attempts) && first.Before(bestStart)) {
			best, bestStart = it, first
		}
	}
	return best
}

func (s *scheduler) start(ctx context.Context, it *item, si int) *attempt {
	actx, cancel := context.WithCancel(ctx)
	a := &attempt{it: it, src: si, start: time.Now(), ctx: actx, cancel: cancel}
	it.attempts = append(it.attempts, a)
	s.active[it] = struct{}{}
	return a
}

// removeAttempt forgets a and, when a was the item's last attempt and the
// item is not done, re-queues the item at the front. Called with mu held.
func (s *scheduler) removeAttempt(a *attempt) {
	a.cancel()
	it := a.it
	for i, b := range it.attempts {
		if b == a {
			it.attempts = append(it.attempts[:i], it.attempts[i+1:]...)
			break
		}
	}
	if len(it.attempts) == 0 {
		delete(s.active, it)
		if !it.done && !it.queued {
			it.queued = true
			s.pending = append([]*item{it}, s.pending...)
		}
	}
	s.broadcast()
}

// complete records that a delivered a verified piece. It returns true if a is
// the first delivery of the item (the caller writes it); the item's other
// attempts are cancelled. A false return is a duplicate to discard.
func (s *scheduler) complete(a *attempt) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := a.it
	st := &s.srcs[a.src].stats
	if it.done {
		st.Duplicates++
		s.removeAttempt(a)
		return false
	}
	it.done = true
	s.remaining--
	for i, ex := range it.excluded {
		if ex {
			s.srcs[i].excluded--
		}
	}
	st.Pieces++
	st.Bytes += int64(it.length)
	for _, b := range it.attempts {
		b.cancel()
	}
	it.attempts = nil
	delete(s.active, it)
	s.broadcast()
	return true
}

// failed records that attempt a ended without a usable piece because of err
// (already classified by the caller): the item goes back to the queue
// unless another attempt is still running; notFound marks the source as not
// having the item; drop != nil drops the source for this file.
func (s *scheduler) failed(a *attempt, notFound bool, bad bool, drop error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.srcs[a.src]
	if bad {
		st.stats.BadPieces++
	}
	if notFound && !a.it.done && !a.it.excluded[a.src] {
		a.it.excluded[a.src] = true
		st.excluded++
	}
	if drop != nil && st.dropped == nil {
		st.dropped = drop
		st.stats.Dropped = drop
	}
	s.removeAttempt(a)
}

// dropSource drops source si for this file (e.g. it could not be reached).
func (s *scheduler) dropSource(si int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srcs[si].dropped == nil {
		s.srcs[si].dropped = err
		s.srcs[si].stats.Dropped = err
	}
	s.broadcast()
}

// poke wakes waiting workers to re-check their state.
func (s *scheduler) poke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast()
}

// snapshot returns the per-source statistics, the number of endgame
// duplicates started and the number of items not done.
func (s *scheduler) snapshot() ([]SourceStats, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SourceStats, len(s.srcs))
	for i := range s.srcs {
		out[i] = s.srcs[i].stats
	}
	return out, s.dups, s.remaining
}
