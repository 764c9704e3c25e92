package peer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// flushEvery is how many applied files are staged before the index is
// written and the tracker told (one transaction, one FILE_UPDATE).
const flushEvery = 256

// smallParallel is how many single-piece files are pulled at once.
const smallParallel = 32

// outcome is what became of one want.
type outcome uint8

const (
	done     outcome = iota // applied (or nothing to do): forget the want
	retry                   // try again later (no live source, fetch failed)
	edited                  // the target was edited locally: rescan first
	obsolete                // a newer version is wanted (or here) now: drop this one
	unowned                 // applied, but its rename may not be durable: not announced
	waiting                 // keep the want for a later pull, without retry timer (dirNotEmpty)
	parked                  // another synced path's name here (case_twin.go): kept, not retried
)

// pullLoop applies wants whenever they change, once the first local scan
// has reported what changed while the peer was down. Between rounds it
// collects abandoned partial downloads (gc.go).
func (d *Daemon) pullLoop(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-d.firstScanDone:
	}
	gc := d.newPartialGC()
	defer gc.stop()
	var again <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.pullKick:
		case <-again:
		case <-gc.due():
			gc.periodic()
			continue
		}
		again = nil
		pctx, ok := d.beginPull(ctx) // not while a re-announce is pending (epoch.go)
		if !ok {
			continue
		}
		pending, err := d.pull(pctx)
		stopped := pctx.Err() != nil
		d.endPull()
		if ctx.Err() != nil {
			return nil
		}
		if stopped {
			continue // stopped for a re-announce, which kicks the next round
		}
		if err != nil {
			d.log.Warn("pull", "err", err)
		}
		if pending > 0 || err != nil {
			again = time.After(d.cfg.Retry)
		}
		gc.afterPull()
	}
}

// pull applies every want it can: directories, then new paths, then updates
// of existing paths, then deletions (files before their directories). It
// returns how many wants are left. A paused folder gets nothing (a resume
// kicks a scan, then a pull).
func (d *Daemon) pull(ctx context.Context) (int, error) {
	if !d.checkFolder() {
		return 0, nil
	}
	// Nothing is applied while tracker updates or forgotten wants are held
	// unstored (a failed index write): the wants read below could be stale.
	if err := d.storeAllHeld(); err != nil {
		return 0, err
	}
	wants, err := d.idx.Wants()
	if err != nil {
		return 0, err
	}
	var dirs, adds, updates, dels []index.Want
	var finished []index.Done
	for _, w := range wants {
		p := w.Manifest.Path
		ie, ok := d.idx.Get(p)
		switch {
		case ok && ie.Manifest.ID == w.Manifest.ID:
			finished = append(finished, index.Done{Path: p, ID: w.Manifest.ID})
		case manifest.ValidatePath(p) != nil:
			d.log.Warn("ignoring invalid path from tracker", "path", p)
			finished = append(finished, index.Done{Path: p, ID: w.Manifest.ID})
		case w.Manifest.Deleted:
			dels = append(dels, w)
		case w.Manifest.Kind == manifest.KindDir:
			dirs = append(dirs, w)
		case !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile:
			adds = append(adds, w)
		default:
			updates = append(updates, w)
		}
	}
	if len(wants) > 0 {
		d.log.Debug("pull", "wants", len(wants), "dirs", len(dirs), "adds", len(adds), "updates", len(updates), "deletes", len(dels))
	}
	r := &round{d: d}
	r.finish(finished...)
	before := d.stats.Snapshot()
	began := time.Now()

	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Manifest.Path < dirs[j].Manifest.Path })
	keep := byFileID(adds)
	for _, w := range dirs {
		r.note(w, d.applyDir(r, w, keep))
	}
	if err := r.flush(ctx); err != nil {
		return len(wants), err
	}
	adds = d.unapplied(adds)
	adds, dels = d.moves(r, adds, dels)
	for _, phase := range [][]index.Want{adds, updates} {
		if err := d.pullFiles(ctx, r, phase); err != nil {
			return len(wants), err
		}
	}
	// Deletions: deepest paths first so directories are empty when removed.
	sort.Slice(dels, func(i, j int) bool {
		di, dj := strings.Count(dels[i].Manifest.Path, "/"), strings.Count(dels[j].Manifest.Path, "/")
		if di != dj {
			return di > dj
		}
		return dels[i].Manifest.Path < dels[j].Manifest.Path
	})
	for _, w := range dels {
		r.note(w, d.applyDelete(w))
	}
	if err := r.flush(ctx); err != nil {
		return len(wants), err
	}
	d.stats.PendingWants.Store(int64(r.pending))
	if after := d.stats.Snapshot(); after.FilesApplied > before.FilesApplied || after.FilesDeleted > before.FilesDeleted {
		d.log.Info("synced from peers",
			"files", after.FilesApplied-before.FilesApplied, "deleted", after.FilesDeleted-before.FilesDeleted,
			"bytes_received", after.BytesReceived-before.BytesReceived, "bytes_local", after.BytesLocal-before.BytesLocal,
			"pending", r.pending, "took", time.Since(began).Round(time.Millisecond))
	}
	if r.sawEdit {
		kick(d.scanKick)
	}
	return r.pending + r.retryParked(before), nil
}

// pullFiles downloads and applies files: single-piece files
// smallParallel at a time (they cost round trips and fsyncs, not
// bandwidth), larger ones cfg.Parallel at a time. A single-piece file is
// sealed by the goroutine that fetched it and then applied by an
// applyBatcher together with the others ready at that moment; a larger
// one is applied on its own.
func (d *Daemon) pullFiles(ctx context.Context, r *round, ws []index.Want) error {
	if len(ws) == 0 {
		return nil
	}
	ab := newApplyBatcher(d, r)
	var bg errgroup.Group // owns the batcher: it ends once ab.in is closed
	bg.Go(func() error { return ab.run(ctx) })
	err := d.fetchFiles(ctx, r, ws, ab.in)
	close(ab.in)
	err = errors.Join(err, bg.Wait())
	// Even after an error: what was applied is recorded, and its ownership
	// announced or kept for the next flush.
	return errors.Join(err, r.flush(ctx))
}

// fetchFiles runs pullFile for every want, except that a single-piece
// file, once fetched and sealed, is sent to ready instead of applied.
func (d *Daemon) fetchFiles(ctx context.Context, r *round, ws []index.Want, ready chan<- readyFile) error {
	g, gctx := errgroup.WithContext(ctx)
	small := make(chan struct{}, smallParallel)
	large := make(chan struct{}, d.cfg.Parallel)
	for _, w := range ws {
		sem := large
		if len(w.Manifest.Pieces) <= 1 {
			sem = small
		}
		select {
		case sem <- struct{}{}:
		case <-gctx.Done():
			return g.Wait()
		}
		g.Go(func() error {
			defer func() { <-sem }()
			if sem == small {
				if f, o := d.fetchSealed(gctx, w); f != nil {
					ready <- *f // the batcher takes every file until ready is closed
				} else {
					r.note(w, o)
				}
				return nil
			}
			r.note(w, d.pullFile(gctx, w))
			if r.applied() >= flushEvery {
				return r.flush(gctx)
			}
			return nil
		})
	}
	return g.Wait()
}

// round collects the outcomes of one pull: finished wants and the versions
// to announce to the tracker as owned.
type round struct {
	d *Daemon

	mu       sync.Mutex
	finished []index.Done
	owned    []manifest.Manifest
	pending  int
	sawEdit  bool
	parked   bool // a want was parked (name clash)
}

func (r *round) finish(ds ...index.Done) {
	r.mu.Lock()
	r.finished = append(r.finished, ds...)
	r.mu.Unlock()
}

func (r *round) note(w index.Want, o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch o {
	case done:
		r.finished = append(r.finished, index.Done{Path: w.Manifest.Path, ID: w.Manifest.ID})
		if w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted {
			r.owned = append(r.owned, w.Manifest)
		}
	case unowned:
		r.finished = append(r.finished, index.Done{Path: w.Manifest.Path, ID: w.Manifest.ID})
	case retry:
		r.pending++
	case edited:
		r.pending++
		r.sawEdit = true
	case obsolete:
		r.pending++ // look again: the newer version may be waiting
	case waiting:
		// The want stays stored; the pull that brings what it waits
		// for applies it.
	case parked:
		r.parked = true
	}
}

func (r *round) applied() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.finished)
}

// flush writes staged index entries, forgets finished wants and tells the
// tracker which versions this peer now owns.
func (r *round) flush(ctx context.Context) error {
	r.mu.Lock()
	finished, owned := r.finished, r.owned
	r.finished, r.owned = nil, nil
	r.mu.Unlock()
	r.d.mu.Lock()
	owned = append(r.d.unannounced, owned...)
	r.d.unannounced = nil
	r.d.mu.Unlock()
	if len(finished) == 0 && len(owned) == 0 {
		return r.d.writer().Update(index.Batch{})
	}
	if err := r.d.writer().Update(index.Batch{DoneWants: finished}); err != nil {
		// The staged entries stay staged and the wants stored (the next
		// pull finds them applied); the ownerships wait for the next flush.
		r.d.mu.Lock()
		r.d.unannounced = append(r.d.unannounced, owned...)
		r.d.mu.Unlock()
		return fmt.Errorf("peer: record applied files: %w", err)
	}
	owned = r.d.stillCurrent(owned)
	for len(owned) > 0 {
		n := min(len(owned), maxBatch)
		req := make([]tracker.Change, n)
		for i := range req {
			// Only a claim: if the version was deleted or replaced
			// meanwhile, the tracker rejects it instead of restoring it.
			req[i] = tracker.Change{New: owned[i], OwnershipOnly: true}
		}
		res, err := r.d.client.Update(ctx, req)
		if err != nil {
			// Announce them with the next flush.
			r.d.mu.Lock()
			r.d.unannounced = append(r.d.unannounced, owned...)
			r.d.mu.Unlock()
			return err
		}
		owned = owned[n:]
		for i, x := range res {
			if x.Outcome != tracker.Owner && x.Outcome != tracker.Accepted {
				r.d.log.Debug("ownership not recorded", "path", req[i].New.Path, "outcome", x.Outcome.String())
			}
		}
	}
	return nil
}

// stillWanted reports whether m is still the version wanted for its path.
// Call it after beginApply, right before changing the disk: a want can turn
// obsolete while its pieces are fetched (a newer version was announced, or
// this peer's own edit became current).
func (d *Daemon) stillWanted(m *manifest.Manifest) bool {
	id, ok := d.idx.WantID(m.Path)
	return ok && id == m.ID
}

// stillCurrent keeps the applied versions that are still the newest this
// peer knows of: announcing ownership of a version the tracker has already
// replaced would read as a concurrent edit (a needless conflict copy).
func (d *Daemon) stillCurrent(ms []manifest.Manifest) []manifest.Manifest {
	out := ms[:0]
	for _, m := range ms {
		if id, ok := d.idx.WantID(m.Path); ok && id != m.ID {
			continue // a newer version was announced meanwhile
		}
		if e, ok := d.idx.Get(m.Path); !ok || e.Manifest.ID != m.ID {
			continue // changed here since; the scan reports it
		}
		out = append(out, m)
	}
	return out
}

// pullFile builds one file version and applies it.
func (d *Daemon) pullFile(ctx context.Context, w index.Want) outcome {
	part, abs, o := d.fetch(ctx, w)
	if part == nil {
		return o
	}
	return d.apply(&w.Manifest, part, abs)
}

// fetchSealed builds one file version and seals it (complete, mode and
// mtime set; applyBatch makes the data durable before the rename), ready
// for applyBatch; nil and the outcome if it cannot.
func (d *Daemon) fetchSealed(ctx context.Context, w index.Want) (*readyFile, outcome) {
	part, abs, o := d.fetch(ctx, w)
	if part == nil {
		return nil, o
	}
	if !d.seal(&w.Manifest, part, false) {
		return nil, retry
	}
	return &readyFile{w: w, part: part, abs: abs}, done
}

// fetch builds one file version in a partial: plan its pieces and fill
// them locally (peer/plan), fetch the rest from live owners. It returns the complete partial and the
// absolute target, or a nil partial and the outcome.
func (d *Daemon) fetch(ctx context.Context, w index.Want) (*chunkstore.Partial, string, outcome) {
	m := w.Manifest
	if !d.folderPresent() {
		return nil, "", retry
	}
	abs, made, err := target(d.cfg.Root, m.Path, true)
	d.stageDirs(made)
	if err != nil {
		d.log.Warn("cannot write", "path", m.Path, "err", err)
		return nil, "", retry
	}
	if d.nameClash(&m) {
		return nil, "", parked
	}
	if d.edited(m.Path, abs) {
		return nil, "", edited
	}
	part, err := d.store.Partial(&m)
	if err != nil {
		if !errors.Is(err, chunkstore.ErrBusy) {
			d.log.Warn("partial", "path", m.Path, "err", err)
		}
		return nil, "", retry
	}
	if err := d.planner().Local(ctx, d.planJob(w, abs), part); err != nil {
		part.Close()
		d.log.Warn("local pieces", "path", m.Path, "err", err)
		return nil, "", retry
	}
	if !part.Complete() {
		srcs := d.sources(w.Owners)
		if len(srcs) == 0 {
			part.Close()
			d.log.Debug("no live source", "path", m.Path)
			return nil, "", retry
		}
		if _, err := d.planner().Fetch(ctx, &m, part, srcs); err != nil {
			part.Close()
			if ctx.Err() == nil {
				d.log.Warn("fetch", "path", m.Path, "err", err)
			}
			return nil, "", retry
		}
	}
	return part, abs, done
}
