package transfer

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

// checkInvariants verifies that no item is lost: every item is done, waiting
// in the queue, or has an attempt in flight — exactly one of these — and the
// counters agree.
func (s *scheduler) checkInvariants(t *testing.T, items []*item) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	inQueue := make(map[*item]int)
	for _, it := range s.pending {
		if !it.done && it.queued {
			inQueue[it]++
		}
	}
	notDone := 0
	for i, it := range items {
		atts, active := s.active[it]
		switch {
		case it.done:
			if active || len(atts) > 0 || inQueue[it] > 0 {
				t.Fatalf("item %d done but still scheduled", i)
			}
			if _, ok := s.lacking[it]; ok {
				t.Fatalf("item %d done but its lacking sources are still kept", i)
			}
		case it.queued:
			notDone++
			if inQueue[it] != 1 || len(atts) > 0 {
				t.Fatalf("item %d queued %d times with %d attempts", i, inQueue[it], len(atts))
			}
		default:
			notDone++
			if !active || len(atts) == 0 {
				t.Fatalf("item %d lost: not done, not queued, no attempt", i)
			}
		}
	}
	if notDone != s.remaining {
		t.Fatalf("remaining = %d, counted %d", s.remaining, notDone)
	}
	for si := range s.srcs {
		ex := 0
		for _, it := range items {
			if !it.done && s.lacks(it, si) {
				ex++
			}
		}
		if ex != s.srcs[si].excluded {
			t.Fatalf("source %d: excluded counter %d, counted %d", si, s.srcs[si].excluded, ex)
		}
	}
}

// TestSchedulerRandomized drives the scheduler with random outcomes from
// several sources; one source never fails, so everything must end done,
// each item delivered exactly once, with no item ever lost on the way.
func TestSchedulerRandomized(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		nitems, nsrc := 1+rng.IntN(20), 1+rng.IntN(4)
		items := testItems(nitems)
		s := newScheduler(items, testSources(nsrc), 1+rng.IntN(3))
		ctx, cancel := context.WithCancel(context.Background())
		var inflight []*attempt
		delivered := make(map[*item]int)
		busy := make([]int, nsrc)
		for step := 0; step < 10000 && s.remaining > 0; step++ {
			si := rng.IntN(nsrc)
			if rng.IntN(3) > 0 && busy[si] < 3 {
				// Ask for work without blocking: only when some is ready.
				if a := s.tryNext(ctx, si, busy[si]); a != nil {
					inflight = append(inflight, a)
					busy[si]++
				}
			} else if len(inflight) > 0 {
				k := rng.IntN(len(inflight))
				a := inflight[k]
				inflight = append(inflight[:k], inflight[k+1:]...)
				busy[a.src]--
				reliable := a.src == 0
				switch r := rng.IntN(5); {
				case reliable || r < 2:
					if s.complete(a) {
						delivered[a.it]++
					}
				case r == 2:
					s.notFound(a)
				case r == 3:
					s.badPiece(a, errors.New("bad"))
				default:
					s.retry(a)
				}
			}
			s.checkInvariants(t, items)
		}
		// Drain: source 0 finishes whatever is left.
		for _, a := range inflight {
			if a.src == 0 && s.complete(a) {
				delivered[a.it]++
			} else if a.src != 0 {
				s.retry(a)
			}
		}
		for s.remaining > 0 {
			a := s.tryNext(ctx, 0, 0)
			if a == nil {
				t.Fatalf("seed %d: %d items left but none handed to the reliable source", seed, s.remaining)
			}
			if s.complete(a) {
				delivered[a.it]++
			}
		}
		s.checkInvariants(t, items)
		for i, it := range items {
			if delivered[it] != 1 {
				t.Fatalf("seed %d: item %d delivered %d times", seed, i, delivered[it])
			}
		}
		cancel()
	}
}

// tryNext is next without waiting: nil when nothing is ready now.
func (s *scheduler) tryNext(ctx context.Context, si, busy int) *attempt {
	c, cancel := context.WithCancel(ctx)
	cancel()
	a := s.next(c, si, func() int { return busy })
	if a != nil {
		// Re-parent the attempt on the live context.
		a.ctx, a.cancel = context.WithCancel(ctx)
	}
	return a
}
