package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// busyBackoff is how long a worker pauses after its source answered BUSY.
const busyBackoff = 50 * time.Millisecond

// runSource is the worker of source si for one Fetch: it keeps up to window
// requests in flight to the source (and within the fetcher's byte budget);
// each request verifies what arrives and writes it to the sink. It returns when the scheduler has nothing more for the source
// or the source is dropped, after all its requests have ended.
//
// A pooled connection that the source answers with a stateless reset was
// made to a previous run of its process (it restarted since): the source is
// not blamed; the worker starts again on new connections, at most once per
// lane (each lane's connection may be one of the previous run).
func (j *fetchJob) runSource(ctx context.Context, si int, src Source) {
	for range j.f.opt.Conns + 1 {
		if !j.runSourceConns(ctx, si, src) {
			return
		}
	}
	j.sched.dropSource(si, fmt.Errorf("transfer: %s at %s: every connection reset", src.ID.Short(), src.Addr))
}

// runSourceConns is one run of runSource's worker on the pool's connections;
// it reports whether it ended because one of them was reset (see
// runSource).
func (j *fetchJob) runSourceConns(ctx context.Context, si int, src Source) (reset bool) {
	f, sched, window := j.f, j.sched, j.window
	conns := make([]transport.Session, 0, f.opt.Conns)
	for lane := range f.opt.Conns {
		conn, err := f.pool.get(ctx, src, lane, j.m.Size >= BulkMinSize)
		if err != nil {
			if len(conns) > 0 && ctx.Err() == nil {
				break // use the lanes we have
			}
			if ctx.Err() == nil {
				f.log.Info("source unreachable", "source", src.ID.Short(), "addr", src.Addr, "file", j.m.Path, "err", err)
			}
			sched.dropSource(si, err)
			return false
		}
		conns = append(conns, conn)
	}
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	var wasReset atomic.Bool
	restarted := func() { // a connection was reset: stop this run, start again
		wasReset.Store(true)
		scancel()
	}
	slots := make(chan struct{}, window)
	var reqs sync.WaitGroup
	defer func() {
		reqs.Wait()
		reset = wasReset.Load() && ctx.Err() == nil
	}()
	for k := 0; ; k++ {
		select {
		case slots <- struct{}{}:
		case <-sctx.Done():
			return
		}
		a := sched.next(sctx, si, func() int { return len(slots) - 1 })
		if a == nil {
			<-slots
			return
		}
		n := int64(a.it.length)
		if err := f.mem.Acquire(a.ctx, n); err != nil {
			sched.retry(a)
			<-slots
			continue
		}
		conn := conns[k%len(conns)]
		reqs.Add(1)
		go func() {
			defer reqs.Done()
			defer func() {
				f.mem.Release(n)
				<-slots
				sched.poke() // this source may now be idle: endgame
			}()
			j.runAttempt(sctx, scancel, restarted, a, conn, src)
		}()
	}
}

// sourceRestarted reports whether err, a request's failure on conn, says
// that the source's process restarted: a QUIC stateless reset, or a TCP
// session lost (a restarted node answers the old connection with a TCP
// reset; a broken network looks the same and is dialled again once too).
func sourceRestarted(err error, conn transport.Session) bool {
	cause := context.Cause(conn.Context())
	return transport.IsStatelessReset(err) || transport.IsStatelessReset(cause) ||
		(conn.Network() == "tcp" && errors.Is(cause, transport.ErrConnLost))
}

// runAttempt performs one request, reports its outcome to the scheduler
// and writes a winning piece to the sink.
func (j *fetchJob) runAttempt(sctx context.Context, dropSrc, restarted context.CancelFunc, a *attempt, conn transport.Session, src Source) {
	f, sched, it := j.f, j.sched, a.it
	began := time.Now()
	f.load.requests.Add(1)
	data, err := requestPiece(a.ctx, conn, f.bufs, src.Folder, it.hash, it.length, f.opt.RequestTimeout)
	f.load.requests.Add(-1)
	if err == nil && manifest.Hash(data) != it.hash {
		f.bufs.put(data)
		err = fmt.Errorf("%w: piece %s from %s", ErrBadPiece, it.hash.Short(), src.ID.Short())
	}
	if err != nil {
		j.attemptFailed(sctx, dropSrc, restarted, a, conn, src, err)
		return
	}
	if sched.complete(a) {
		f.observe(false, began, len(data))
		j.write(it, data)
	}
	f.bufs.put(data)
}

// attemptFailed classifies a failed request: the item is re-queued; a
// source without the piece is excluded for that piece; a busy source pauses;
// a connection reset by the source's restarted process is dialled again
// (restarted); any other failure of a live request drops the source for
// this file.
func (j *fetchJob) attemptFailed(sctx context.Context, dropSrc, restarted context.CancelFunc, a *attempt, conn transport.Session, src Source, err error) {
	f, sched := j.f, j.sched
	switch {
	case sourceRestarted(err, conn):
		f.log.Info("source restarted; connecting again", "source", src.ID.Short(), "file", j.m.Path)
		sched.retry(a)
		f.pool.evictConn(src.ID, conn)
		restarted()
	case a.ctx.Err() != nil:
		// Cancelled: a duplicate won, the source was dropped, or the fetch ended.
		sched.retry(a)
	case errors.Is(err, ErrNotFound):
		sched.notFound(a)
	case errors.Is(err, ErrBusy):
		sched.retry(a)
		t := time.NewTimer(busyBackoff)
		select {
		case <-t.C:
		case <-sctx.Done():
			t.Stop()
		}
	default:
		f.log.Warn("dropping source for file", "source", src.ID.Short(), "file", j.m.Path, "piece", a.it.hash.Short(), "err", err)
		if errors.Is(err, ErrBadPiece) {
			sched.badPiece(a, err)
		} else {
			sched.sourceFailed(a, err)
		}
		dropSrc()
		if conn.Context().Err() != nil {
			f.pool.evictConn(src.ID, conn)
		}
	}
}
