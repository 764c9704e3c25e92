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

// Syncer is an optional Sink method (*chunkstore.Partial has it): Sync
// makes the pieces written so far durable, which is when this peer's piece
// server holds them for the other downloaders (chunkstore.Store.Held). A
// swarming fetch calls it every HavePoll, so that a piece it received is
// known to the others within about a second even when nothing more
// arrives (a partial otherwise records its pieces only on a later write).
type Syncer interface {
	Sync() error
}

// pollHolders starts one poller per partial holder among sources, each
// asking it every HavePoll which pieces it holds and telling the
// scheduler, and, if the sink is a Syncer, the announcer that syncs it
// every HavePoll. The returned stop ends them and waits; the caller calls
// it once its source workers have ended.
func (j *fetchJob) pollHolders(ctx context.Context, sources []Source) (stop func()) {
	if j.sched.sw == nil {
		return func() {}
	}
	j.sched.setSelf(j.f.id.ID)
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if y, ok := j.sink.(Syncer); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.announce(pctx, y)
		}()
	}
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
		conn, err := f.pool.get(ctx, src, 0, false) // small control answers: not the bulk lanes
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

// announce syncs the sink every HavePoll until ctx ends (see Syncer). A
// failed sync is logged: the pieces stay pending and the next write or
// sync records them.
func (j *fetchJob) announce(ctx context.Context, y Syncer) {
	t := time.NewTicker(HavePoll)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if err := y.Sync(); err != nil && ctx.Err() == nil {
			j.f.log.Debug("sync of a swarming download", "file", j.m.Path, "err", err)
		}
	}
}
