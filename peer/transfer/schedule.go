package transfer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// item is one work item: a distinct missing piece hash and the first index
// of the file that holds it (the fetch job keeps any other indexes). An
// item exists for every missing piece of a file for the whole fetch, so it
// holds nothing else: the requests in flight and the sources that lack it
// are kept by the scheduler for the few items that have them (a 1 TiB file
// has a million items).
type item struct {
	hash   manifest.ID
	length int
	index  int
	done   bool
	queued bool
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
	pending   []*item              // waiting items; may hold items that are done or no longer queued
	active    map[*item][]*attempt // items with requests in flight, and those requests
	lacking   map[*item][]bool     // not-done items some source lacks: by source index
	remaining int                  // items not done
	srcs      []srcState
	changed   chan struct{} // closed and replaced on every state change
	dups      int
	sw        *swarm // partial holders, rarest first (swarm_sched.go); nil without
}

func newScheduler(items []*item, srcs []Source, maxDup int) *scheduler {
	s := &scheduler{
		maxDup:    max(maxDup, 1),
		pending:   slices.Clone(items),
		active:    make(map[*item][]*attempt),
		lacking:   make(map[*item][]bool),
		remaining: len(items),
		srcs:      make([]srcState, len(srcs)),
		changed:   make(chan struct{}),
	}
	for i := range srcs {
		s.srcs[i].stats.ID = srcs[i].ID
	}
	for _, it := range items {
		it.queued = true
	}
	s.initSwarm(srcs)
	return s
}

// lacks reports whether source si said it does not have it. Called with mu
// held.
func (s *scheduler) lacks(it *item, si int) bool {
	l := s.lacking[it]
	return l != nil && l[si] || s.notHeld(it, si)
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
		if s.remaining == 0 || st.dropped != nil || st.excluded >= s.remaining || s.swarmDone(si) {
			s.mu.Unlock()
			return nil
		}
		if it := s.pop(si, busy); it != nil {
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
		if s.lacks(it, si) {
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
	bestN := 0
	for it, atts := range s.active {
		if it.done || s.lacks(it, si) || len(atts) >= s.maxDup || len(atts) == 0 {
			continue
		}
		mine := false
		for _, a := range atts {
			mine = mine || a.src == si
		}
		if mine {
			continue
		}
		first := atts[0].start
		if best == nil || len(atts) < bestN || (len(atts) == bestN && first.Before(bestStart)) {
			best, bestN, bestStart = it, len(atts), first
		}
	}
	return best
}

func (s *scheduler) start(ctx context.Context, it *item, si int) *attempt {
	actx, cancel := context.WithCancel(ctx)
	a := &attempt{it: it, src: si, start: time.Now(), ctx: actx, cancel: cancel}
	s.active[it] = append(s.active[it], a)
	return a
}

// removeAttempt forgets a and, when a was the item's last attempt and the
// item is not done, re-queues the item at the front. Called with mu held.
func (s *scheduler) removeAttempt(a *attempt) {
	a.cancel()
	it := a.it
	atts := s.active[it]
	for i, b := range atts {
		if b == a {
			atts = append(atts[:i], atts[i+1:]...)
			break
		}
	}
	if len(atts) > 0 {
		s.active[it] = atts
	} else {
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
	for i, ex := range s.lacking[it] {
		if ex {
			s.srcs[i].excluded--
		}
	}
	delete(s.lacking, it)
	st.Pieces++
	st.Bytes += int64(it.length)
	for _, b := range s.active[it] {
		b.cancel()
	}
	delete(s.active, it)
	s.broadcast()
	return true
}

// How an attempt ended without a usable piece, as its caller classified it.
// Whatever the kind, the item goes back to the queue unless another attempt
// at it is still running.
type failKind int

const (
	failRetry    failKind = iota // no blame: cancelled, the source busy, no memory
	failNotFound                 // the source does not have the item: not asked for it again
	failSource                   // the source failed: dropped for this file
	failBadPiece                 // the source sent wrong bytes: counted, and dropped for this file
)

// retry ends attempt a without blaming its source (failRetry).
func (s *scheduler) retry(a *attempt) { s.failed(a, failRetry, nil) }

// notFound ends attempt a: its source does not have the item (failNotFound).
func (s *scheduler) notFound(a *attempt) { s.failed(a, failNotFound, nil) }

// sourceFailed ends attempt a and drops its source for this file because of
// err (failSource).
func (s *scheduler) sourceFailed(a *attempt, err error) { s.failed(a, failSource, err) }

// badPiece ends attempt a whose source sent wrong bytes (err): counted, and
// the source is dropped for this file (failBadPiece).
func (s *scheduler) badPiece(a *attempt, err error) { s.failed(a, failBadPiece, err) }

// failed records that attempt a ended without a usable piece, as kind says;
// drop (failSource, failBadPiece) is why its source is dropped.
func (s *scheduler) failed(a *attempt, kind failKind, drop error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.srcs[a.src]
	if kind == failBadPiece {
		st.stats.BadPieces++
	}
	if kind == failNotFound && !a.it.done && !s.lacks(a.it, a.src) {
		l := s.lacking[a.it]
		if l == nil {
			l = make([]bool, len(s.srcs))
			s.lacking[a.it] = l
		}
		l[a.src] = true
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
