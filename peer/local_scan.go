package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/scan"
)

// reportBatch bounds the changes one report sends (and holds) at once, and
// the restaged entries written at once: the changes of a whole tree are
// never held together.
const reportBatch = 1024

// scanRun is the state of one streaming scan (reporter.scan).
type scanRun struct {
	guard scanGuard
	merge *decide.LocalMerge
	// pending are changes found and not reported yet (< reportBatch
	// between batches).
	pending []decide.Change
	// unreadable are the paths the walk could not read (Skip.Err set), for
	// warnUnreadable once the scan is complete.
	unreadable []scan.Skip
	restaged   int // entries staged since the last index write
	entries    int64
	hashed     int64
}

// scan scans the folder and reports what changed, streaming: the walk
// (scan.Stream, in walk order) is merged batch by batch with the index read
// page by page (decide.LocalMerge), and the changes go to the tracker every
// reportBatch. The scanner's Prev reads the index forward the same way (no
// lookup per file). Deletions are reported last, once the walk is complete
// and the disk confirms each (stillNamed); a scan that fails or is
// cancelled midway reports none. A paused folder reports nothing more
// (errFolderPaused): the marker is checked before the walk, before each
// report, after the walk and after the deletions are decided (see
// folderGuard.pausedDuringScan). Changes reported by then are real files,
// read from the disk.
func (r *reporter) scan(ctx context.Context) (err error) {
	guard, ok := r.guard.beginScan()
	if !ok {
		return errFolderPaused
	}
	start := time.Now()
	r.state.live.scanStarted()
	defer func() { r.state.live.scanEnded(err) }()
	r.ignore.reload()           // before any other path is decided on (ignore.go)
	rules := r.ignore.matcher() // the walk and the diff use the same rules, whatever reloads meanwhile
	run := &scanRun{guard: guard,
		// The merge compares file IDs and stats: heads, without piece lists.
		merge: decide.NewLocalMerge(r.idx.NewPageReader(true).Page, r.state.isApplying, ignoredBy(rules), time.Now().UnixNano())}
	r.sum = &localSummary{start: start, last: start}
	defer func() {
		r.sum.log(r.log)
		r.sum = nil
	}()
	prev := decide.NewCursor(r.idx.NewPageReader(false).Page) // the walk reuses unchanged manifests whole
	err = scan.Stream(ctx, r.root, scan.Options{PieceSize: r.state.currentPieceSize(), Prev: prevFrom(prev), Log: r.log,
		Progress: r.state.live.scanProgress, Ignore: rules.Match, Batch: reportBatch},
		func(b scan.Batch) error { return r.scanBatch(ctx, run, b) })
	if err != nil {
		if errors.Is(err, errFolderPaused) || !r.guard.check() {
			return errFolderPaused
		}
		return err
	}
	if err := prev.Err(); err != nil {
		return fmt.Errorf("read the index for the scan: %w", err)
	}
	if r.guard.pausedDuringScan(guard, "walk") {
		return errFolderPaused
	}
	dels, err := run.merge.Finish()
	if err != nil {
		return fmt.Errorf("merge the scan with the index: %w", err)
	}
	r.warnUnreadable(run.unreadable)
	for _, c := range dels {
		if !r.stillNamed(c.Manifest.Path) {
			run.pending = append(run.pending, c)
		}
	}
	if r.guard.pausedDuringScan(guard, "diff") {
		return errFolderPaused
	}
	r.stats.ScansCompleted.Add(1)
	r.log.Debug("local scan", "entries", run.entries, "hashed", run.hashed, "deleted", len(run.pending),
		"took", time.Since(start))
	r.sum.done(r.log, run.entries, run.hashed)
	if len(run.pending) == 0 {
		return r.idx.Flush()
	}
	return r.reportPending(ctx, run)
}

// scanBatch takes one batch of the walk: records the local pieces of the
// files it hashed, merges it with the index, restages unchanged files
// with a new stat, and reports the changes once reportBatch are pending.
func (r *reporter) scanBatch(ctx context.Context, run *scanRun, b scan.Batch) error {
	var hashed []*manifest.Manifest
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Hashed {
			run.hashed++
			if e.Manifest.Kind == manifest.KindFile && !e.Manifest.Deleted && e.Manifest.Size > 0 {
				hashed = append(hashed, &e.Manifest)
			}
		}
	}
	run.entries += int64(len(b.Entries))
	if len(hashed) > 0 {
		// The chunk store learns where local pieces are, so a rename or a
		// conflict copy is built from them, and so that the piece server
		// can serve what is reported next. A failure (a full disk) fails
		// the scan: a file reported without its pieces recorded would make
		// this device the owner of a version it cannot serve (and the scan
		// would not record them later: the file is unchanged). The scan is
		// retried like any failed scan.
		if err := r.store.AddFiles(hashed); err != nil {
			return fmt.Errorf("index local pieces: %w", err)
		}
	}
	r.warnBadNames(b.Skipped)
	for _, s := range b.Skipped {
		if s.Err != nil {
			run.unreadable = append(run.unreadable, s)
		}
	}
	d, err := run.merge.Batch(b)
	if err != nil {
		return fmt.Errorf("merge the scan with the index: %w", err)
	}
	run.pending = append(run.pending, r.keepCurrent(d.Changes)...)
	if len(d.Restat) > 0 {
		r.idx.Stage(d.Restat...)
		if run.restaged += len(d.Restat); run.restaged >= reportBatch {
			run.restaged = 0
			if err := r.idx.Flush(); err != nil {
				return fmt.Errorf("restage unchanged files: %w", err)
			}
		}
	}
	r.sum.tick(r.log, run.entries)
	if r.afterBatch != nil {
		r.afterBatch()
	}
	if len(run.pending) < reportBatch {
		return nil
	}
	if r.guard.pausedDuringScan(run.guard, "walk") {
		return errFolderPaused
	}
	return r.reportPending(ctx, run)
}

// keepCurrent keeps the changes the disk still shows: a file that changed
// again since it was scanned (or was replaced by an apply) is left for the
// next scan, and a version the tracker refused in the same circumstances
// is not reported again. (Deletions are checked by stillNamed.)
func (r *reporter) keepCurrent(changes []decide.Change) []decide.Change {
	out := changes[:0]
	for _, c := range changes {
		m := &c.Manifest
		switch {
		case r.state.stillRejected(m, r.idx.Seq()):
			continue
		case m.Kind == manifest.KindFile && !m.Deleted:
			fi, err := os.Lstat(absPath(r.root, m.Path))
			if err != nil || scan.StatOf(fi) != c.Stat {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// reportPending reports the pending changes, reportBatch at a time (see
// report: on a failure the answered ones are recorded, the rest left for
// the next scan).
func (r *reporter) reportPending(ctx context.Context, run *scanRun) error {
	p := run.pending
	run.pending = nil
	for len(p) > 0 {
		n := min(len(p), reportBatch)
		if err := r.report(ctx, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// prevFrom is the scanner's view of the index (scan.Prev), read forward
// with c: the last synced manifest and stat of a live file.
func prevFrom(c *decide.Cursor) scan.Prev {
	return func(path string) (manifest.Manifest, scan.Stat, bool) {
		e, ok := c.Seek(path)
		if !ok || e.Manifest.Deleted || e.Manifest.Kind != manifest.KindFile {
			return manifest.Manifest{}, scan.Stat{}, false
		}
		return e.Manifest, e.Stat, true
	}
}

// ignoredBy is the merge's view of the rules the walk used: an ignored
// path, which the walk does not list, is never taken for deleted. nil when
// there are no rules.
func ignoredBy(m *ignore.Matcher) func(string, bool) bool {
	if m.Len() == 0 {
		return nil
	}
	return m.Ignored
}
