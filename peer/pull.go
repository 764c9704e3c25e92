package peer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/peer/index"
)

// flushEvery is how many applied files are staged before the index is
// written and the tracker told (one transaction, one FILE_UPDATE).
const flushEvery = 256

// smallParallel is how many single-piece files are pulled at once.
const smallParallel = 32

// puller takes the tracker's wants to the disk: its loop runs a pull round
// whenever the wants change (decide.Wants orders them), builds each file
// version (fetch: the planner, then the fetcher), hands it to the applier,
// and flushes each round (the index, then the ownership announcement).
type puller struct {
	log    *slog.Logger
	idx    *index.Index
	store  *chunkstore.Store
	stats  *Stats
	state  *syncState
	guard  *folderGuard
	writes *heldWrites
	rs     *resync
	apply  *applier
	plan   *planner
	client trackerClient // set by folder.connect
	ignore *ignoreRules  // ignored paths are not pulled (ignore.go)
	gc     *gcBoost      // the Daemon's: a phase of many small files raises the GC target

	parallel      int           // Config.Parallel: large files at once
	retry         time.Duration // Config.Retry
	page          int           // wants per page of a pull's walks; 0: index.DefaultPage
	poll          time.Duration // Config.FolderPoll: how often a full disk is checked for room
	partialMaxAge time.Duration // Config.PartialMaxAge

	pullKick      chan struct{} // in: pull now
	scanKick      chan struct{} // out: a round saw a local edit
	firstScanDone chan struct{} // no pull before the first scan reported

	afterAdds func(updates int) // tests: called between a round's new paths and its updates
}

// loop applies wants whenever they change, once the first local scan
// has reported what changed while the peer was down. Between rounds it
// collects abandoned partial downloads (gc.go).
func (p *puller) loop(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-p.firstScanDone:
	}
	gc := p.newPartialGC()
	defer gc.stop()
	room := time.NewTicker(max(p.poll, 10*time.Millisecond))
	defer room.Stop()
	var again <-chan time.Time
	fails := 0 // failed rounds in a row
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.pullKick:
		case <-again:
		case <-room.C:
			if !p.state.faults.spaceFreed() {
				continue
			}
			p.log.Info("the disk has room again: retrying the files it could not hold")
			kick(p.scanKick) // a scan that failed for the disk too
		case <-gc.due():
			gc.periodic()
			continue
		}
		again = nil
		pctx, ok := p.rs.beginPull(ctx) // not while a re-announce is pending (epoch.go)
		if !ok {
			continue
		}
		pending, err := p.pull(pctx)
		stopped := pctx.Err() != nil
		p.rs.endPull()
		if ctx.Err() != nil {
			return nil
		}
		if stopped {
			continue // stopped for a re-announce, which kicks the next round
		}
		switch {
		case err != nil:
			// A failing round is warned about once; one that failed to
			// write (an index write on a full disk) is retried with
			// backoff, not at every Retry.
			fails++
			select {
			case <-p.pullKick: // its own failed index write kicked the loop
			default:
			}
			p.state.live.setFailed("pull", err) // also when it failed before its wants were read
			if p.state.faults.roundFailed("pull", err) {
				p.log.Warn("pull", "err", err)
			} else {
				p.log.Debug("pull", "err", err, "failures_in_a_row", fails)
			}
			again = time.After(p.state.faults.retryAfter(err, fails))
			gc.afterPull()
			continue
		case pending > 0:
			again = time.After(p.retry)
		default:
			if d, ok := p.state.faults.wait(); ok {
				again = time.After(max(d, p.retry))
			}
		}
		if fails > 0 {
			fails = 0
			p.state.faults.roundOK("pull")
			p.state.live.setFailed("pull", nil)
		}
		gc.afterPull()
	}
}

// pull applies every want it can, in the order of decide.Wants:
// directories, then new paths (moves first), then updates of existing
// paths, then deletions (files before their directories), walking the
// stored wants a page at a time (pull_pages.go). It returns how many wants
// are left. A paused folder gets nothing (a resume kicks a scan, then a
// pull).
func (p *puller) pull(ctx context.Context) (_ int, err error) {
	if !p.guard.check() {
		return 0, nil
	}
	// Nothing is applied while tracker updates or forgotten wants are held
	// unstored (a failed index write): the wants read below could be stale.
	if err := p.writes.storeAll(); err != nil {
		return 0, err
	}
	if err := p.ignoreFirst(ctx); err != nil { // ignore_pull.go
		return 0, err
	}
	p.state.faults.retain(func(path string) bool { _, ok := p.idx.WantID(path); return ok })
	r := &round{p: p}
	before := p.stats.Snapshot()
	began := time.Now()
	started := false
	defer func() {
		if started {
			p.state.live.pullEnded(err)
		}
	}()
	sum, err := p.pullDirs(ctx, r, func() {
		if !started {
			started = true
			p.state.live.pullStarted()
		}
	})
	if err != nil {
		return sum.wants, err
	}
	if sum.wants > 0 {
		p.log.Debug("wants this round", "wants", sum.wants, "dirs", sum.dirs, "adds", sum.adds,
			"updates", sum.updates, "deletes", sum.dels)
	}
	stop := p.progress(before, began) // pull_progress.go
	defer stop()
	if sum.adds > 0 && sum.moveSources > 0 {
		if err := p.pullMoves(ctx, r); err != nil {
			return sum.wants, err
		}
	}
	if sum.adds > 0 {
		if err := p.pullFiles(ctx, r, sum.small, p.addsSource(r)); err != nil {
			return sum.wants, err
		}
		if p.afterAdds != nil {
			p.afterAdds(sum.updates)
		}
	}
	if sum.updates > 0 {
		if err := p.pullFiles(ctx, r, sum.small, p.updatesSource(r)); err != nil {
			return sum.wants, err
		}
	}
	if sum.dels > 0 {
		if err := p.pullDeletes(ctx, r, sum.dirDepth); err != nil {
			return sum.wants, err
		}
	}
	if err := r.flush(ctx); err != nil {
		return sum.wants, err
	}
	p.stats.PendingWants.Store(int64(r.pending + r.faulted))
	p.logSynced(before, began, r.pending)
	if r.sawEdit {
		kick(p.scanKick)
	}
	return r.pending + r.retryParked(before), nil
}

// pullFiles downloads and applies the files src yields: single-piece files
// smallParallel at a time (they cost round trips and fsyncs, not
// bandwidth), larger ones Config.Parallel at a time. A single-piece file is
// sealed by the goroutine that fetched it and then applied by an
// applyBatcher together with the others ready at that moment; a larger
// one is applied on its own. small is about how many single-piece files
// src holds (for the GC boost: gc_boost.go).
func (p *puller) pullFiles(ctx context.Context, r *round, small int, src wantSource) error {
	defer p.gc.begin(small)()
	ab := newApplyBatcher(p.apply, r)
	var bg errgroup.Group // owns the batcher: it ends once ab.in is closed
	bg.Go(func() error { return ab.run(ctx) })
	err := p.fetchFiles(ctx, r, src, ab.in)
	close(ab.in)
	err = errors.Join(err, bg.Wait())
	// Even after an error: what was applied is recorded, and its ownership
	// announced or kept for the next flush.
	return errors.Join(err, r.flush(ctx))
}

// fetchFiles runs pullFile for every want src yields, except that a
// single-piece file, once fetched and sealed, is sent to ready instead of
// applied. It holds one batch of src and the files in flight.
func (p *puller) fetchFiles(ctx context.Context, r *round, src wantSource, ready chan<- readyFile) error {
	g, gctx := errgroup.WithContext(ctx)
	small := make(chan struct{}, smallParallel)
	large := make(chan struct{}, p.parallel)
	for {
		ws, err := src(gctx)
		if err != nil {
			if gctx.Err() != nil {
				return g.Wait() // the group's error, or ctx's end
			}
			return errors.Join(err, g.Wait())
		}
		if len(ws) == 0 {
			return g.Wait()
		}
		for _, w := range ws {
			sem := large
			if pieceCount(&w) <= 1 {
				sem = small
			}
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return g.Wait()
			}
			g.Go(func() error {
				defer func() { <-sem }()
				w, o := wholeWant(p.idx, p.log, w) // decoded only now (pull_whole.go)
				if o != done {
					r.note(w, o)
					return nil
				}
				if sem == small {
					if f, o := p.fetchSealed(gctx, w); f != nil {
						ready <- *f // the batcher takes every file until ready is closed
					} else {
						r.note(w, o)
					}
					return nil
				}
				r.note(w, p.pullFile(gctx, w))
				if r.applied() >= flushEvery {
					return r.flush(gctx)
				}
				return nil
			})
		}
	}
}

// pullFile builds one file version and applies it.
func (p *puller) pullFile(ctx context.Context, w index.Want) outcome {
	part, abs, o := p.fetch(ctx, w)
	if part == nil {
		return o
	}
	return p.apply.apply(&w.Manifest, part, abs)
}

// fetchSealed builds one file version and seals it (complete, mode and
// mtime set; applyBatch makes the data durable before the rename), ready
// for applyBatch; nil and the outcome if it cannot.
func (p *puller) fetchSealed(ctx context.Context, w index.Want) (*readyFile, outcome) {
	part, abs, o := p.fetch(ctx, w)
	if part == nil {
		return nil, o
	}
	if o := p.apply.seal(&w.Manifest, part, dataUnsynced); o != done {
		return nil, o
	}
	return &readyFile{w: w, part: part, abs: abs}, done
}

// fetch builds one file version in a partial: the planner plans its
// pieces and fills them locally (peer/plan), the fetcher fetches the rest
// from live owners. It returns the complete partial and the absolute
// target, or a nil partial and the outcome.
func (p *puller) fetch(ctx context.Context, w index.Want) (*chunkstore.Partial, string, outcome) {
	m := w.Manifest
	a := p.apply
	if !p.guard.present() {
		return nil, "", retry
	}
	abs, made, err := target(a.root, m.Path, createParents)
	stageDirs(p.idx, made)
	if err != nil {
		return nil, "", a.writeFailed(m.Path, "cannot write", err)
	}
	if a.nameClash(&m) {
		return nil, "", parked
	}
	if a.edited(m.Path, abs) {
		return nil, "", a.editedOutcome(m.Path, abs)
	}
	if a.copyPending(&m) { // conflict_pending.go
		return nil, "", retry
	}
	part, err := p.store.Partial(&m)
	if err != nil {
		if errors.Is(err, chunkstore.ErrBusy) {
			return nil, "", retry
		}
		return nil, "", a.writeFailed(m.Path, "partial", err)
	}
	release, err := p.state.room.roomFor(part)
	if err != nil {
		part.Close()
		return nil, "", a.writeFailed(m.Path, "partial", err)
	}
	defer release()
	xf := p.state.live.beginTransfer(&m, part)
	complete := false
	defer func() { p.state.live.endTransfer(xf, complete) }()
	sink := xf.sink(part)
	job := p.plan.job(w, abs)
	xf.sources.Store(int64(len(job.Sources)))
	if err := p.plan.executor().Local(ctx, job, sink); err != nil {
		part.Close()
		return nil, "", a.writeFailed(m.Path, "local pieces", err)
	}
	if !part.Complete() {
		srcs := p.plan.fetchSources(&m, w.Owners) // live owners, then partial holders (swarm.go)
		if len(srcs) == 0 {
			part.Close()
			if p.isPhantom(w, abs) {
				return nil, "", p.dropPhantom(ctx, w)
			}
			p.log.Debug("no live source", "path", m.Path)
			return nil, "", retry
		}
		xf.sources.Store(int64(len(srcs)))
		if _, err := p.plan.executor().Fetch(ctx, &m, sink, srcs); err != nil {
			part.Close()
			if ctx.Err() != nil {
				return nil, "", retry
			}
			return nil, "", a.writeFailed(m.Path, "fetch", err)
		}
	}
	complete = true
	return part, abs, done
}
