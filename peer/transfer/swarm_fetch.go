package transfer

import (
	"context"
	"errors"
	"sync"
	"time"
)

// HavePoll is how often a fetch asks each partial holder what it holds
// (HaveRequest). With the holder's own batching of durable pieces (a
// partial records its pieces at most every 500 ms), a piece a holder
// verified is known to the other downloaders within about a second.
const HavePoll = 500 * time.Millisecond

// maxHaveFailures is how many have requests in a row may fail (not
// NOT_FOUND: the connection or the stream) before the holder is dropped
// for the fetch.
const maxHaveFailures = 3

// pollHolders starts one poller per partial holder among sources, each
// asking it every HavePoll which pieces it holds and telling the
// scheduler. The returned stop ends them and waits; the caller calls it
// once its source workers have ended.
func (j *fetchJob) pollHolders(ctx context.Context, sources []Source) (stop func()) {
	if j.sched.sw == nil {
		return func() {}
	}
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for si, src := range sources {
		if !src.Partial {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.pollHolder(pctx, si, src)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// pollHolder is the poller of partial holder si (see pollHolders). It ends
// when ctx ends, the holder is dropped, or the fetch gave up on holders.
func (j *fetchJob) pollHolder(ctx context.Context, si int, src Source) {
	f := j.f
	failures := 0
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if j.sched.checkStall() || j.sched.isDropped(si) {
			return
		}
		conn, err := f.pool.get(ctx, src, 0)
		if err == nil {
			var bits []byte
			bits, err = requestHave(ctx, conn, src.Folder, j.m.ID, len(j.m.Pieces), f.opt.RequestTimeout)
			if err == nil {
				j.sched.setHave(si, bits)
			}
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrBusy):
			failures = 0
		case errors.Is(err, ErrBadRequest), errors.Is(err, ErrForbidden):
			// A peer that predates swarming, or that does not take us as a
			// peer of the folder: not a holder.
			j.sched.dropSource(si, err)
			return
		default:
			if failures++; failures >= maxHaveFailures {
				f.log.Debug("partial holder unreachable", "source", src.ID.Short(), "file", j.m.Path, "err", err)
				j.sched.dropSource(si, err)
				return
			}
		}
		t.Reset(HavePoll)
	}
}

// isDropped reports whether source si was dropped for the fetch.
func (s *scheduler) isDropped(si int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srcs[si].dropped != nil
}
