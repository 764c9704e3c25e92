package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/watch"
	"github.com/dartsync/dartsync/tracker"
)

// trackerClient is what the reporter and the puller ask of the tracker
// (*tracker.Client).
type trackerClient interface {
	Update(ctx context.Context, changes []tracker.Change) ([]tracker.Result, error)
	UpdateOn(ctx context.Context, conn uint64, changes []tracker.Change) ([]tracker.Result, error)
	Reannounce(ctx context.Context, conn uint64, changes []tracker.Change) ([]tracker.Result, error)
	ReannounceDone(ctx context.Context, conn uint64) error
}

// reporter takes the folder to the tracker: its loop scans when the
// watcher or a kick asks, merges the scan with the index batch by batch
// (decide.LocalMerge, local_scan.go), reports the changes in bounded
// batches and records the tracker's answers (decide.Record); after a
// tracker's epoch change it re-announces the index first (epoch.go).
type reporter struct {
	root   string
	log    *slog.Logger
	idx    *index.Index
	store  *chunkstore.Store
	stats  *Stats
	state  *syncState
	guard  *folderGuard
	writes *heldWrites
	rs     *resync
	client trackerClient // set by folder.connect
	ignore *ignoreRules  // reloaded before each scan (ignore.go)

	scanKick      chan struct{} // in: scan now
	pullKick      chan struct{} // out: a scan is done
	firstScanDone chan struct{} // closed after the first scan

	// conn, if not 0, is the registration local changes are reported on
	// (a running re-announce's). Only the loop uses it.
	conn uint64
	// reannounceHeard is the highest sequence number answered on conn (a
	// re-announce's Heard in the new epoch). Only the loop uses it.
	reannounceHeard uint64
	// badNames holds the local names the scan skipped because
	// manifest.ValidatePath refuses them, already warned about (names.go).
	// Only the loop uses it.
	badNames map[string]bool
	// unreadable: the paths the last scan could not read, and why
	// (warnUnreadable).
	unreadable map[string]string
	// sum, during a scan, counts what its reports recorded, for the
	// scan's few info lines (local_summary.go). Only the loop uses it.
	sum *localSummary
	// afterBatch, if set (tests), is called after each batch of a scan.
	afterBatch func()
}

// loop runs a local scan whenever the watcher (changes) or a kick asks
// for one. Scans wait for the first registration (they need the piece
// size), and for the folder to be active (a resume kicks a scan).
func (r *reporter) loop(ctx context.Context, changes <-chan watch.Change) error {
	first := true
	var retry <-chan time.Time
	fails := 0 // failed scans in a row
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-changes:
			if !c.All && !r.needsScan(c.Paths) {
				continue // only our own writes, already in the index
			}
			r.log.Debug("watcher", "paths", len(c.Paths), "all", c.All, "reason", c.Reason)
		case <-r.scanKick:
		case <-retry:
			retry = nil
		}
		if r.state.currentPieceSize() == 0 {
			continue // not registered yet; Registered kicks a scan
		}
		scan := r.scan
		if info, ok := r.rs.pendingReannounce(); ok {
			scan = func(ctx context.Context) error { return r.reannounce(ctx, info) } // epoch.go
		}
		if err := scan(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errFolderPaused) {
				continue
			}
			// Retried with backoff when it could not write (a full disk
			// fails every index write), and then at once when the disk
			// has room (the pull loop kicks a scan); warned about once
			// per error.
			fails++
			if r.state.faults.roundFailed("scan", err) {
				r.log.Warn("local scan", "err", err)
			} else {
				r.log.Debug("local scan", "err", err, "failures_in_a_row", fails)
			}
			retry = time.After(r.state.faults.retryAfter(err, fails))
			continue
		}
		if fails > 0 {
			fails = 0
			r.state.faults.roundOK("scan")
		}
		if first {
			first = false
			close(r.firstScanDone)
		}
		kick(r.pullKick)
	}
}

// needsScan reports whether any of the paths the watcher named differs from
// the index (decide.NeedsScan), so a scan is worth its walk.
func (r *reporter) needsScan(paths []string) bool {
	if namesIgnoreFile(paths) && r.ignore.reload() {
		return true // paths un-ignored now are scanned (ignore.go)
	}
	for _, p := range paths {
		if r.state.isApplying(p) || r.ignore.ignored(p, false) {
			continue
		}
		ie, ok := r.idx.Get(p)
		if decide.NeedsScan(ie, ok, decide.DiskOf(os.Lstat(absPath(r.root, p)))) {
			return true
		}
	}
	return false
}

// report sends changes to the tracker (tracker.Client.Update splits them
// into messages) and records the outcomes. On a failure, the changes the
// tracker answered are recorded, the others are left for the next scan.
func (r *reporter) report(ctx context.Context, changes []decide.Change) error {
	req := make([]tracker.Change, len(changes))
	paths := make([]string, len(changes))
	reported := make([]index.Reported, 0, len(changes))
	for i := range changes {
		m := &changes[i].Manifest
		req[i] = tracker.Change{New: *m}
		paths[i] = m.Path
		if m.Kind == manifest.KindFile { // every directory has the same ID: no proof
			reported = append(reported, index.Reported{Path: m.Path, ID: m.ID})
		}
	}
	r.state.markReporting(changes)
	defer r.state.unmarkReporting(changes)
	// What this peer reported before without recording an answer (a crash
	// in between) goes with the report, and this report is written down
	// before it is sent (peer/index/unacked.go).
	unacked, err := r.idx.Unacked(paths)
	if err != nil {
		return err
	}
	for i := range req {
		if req[i].New.Kind == manifest.KindFile {
			req[i].Unacked = unacked[paths[i]]
		}
	}
	if err := r.idx.Update(index.Batch{Reported: reported}); err != nil {
		return fmt.Errorf("record reports before sending: %w", err)
	}
	res, err := r.update(ctx, req)
	if err == nil && len(res) != len(changes) {
		return errors.New("peer: tracker answered a different number of results")
	}
	if n := min(len(res), len(changes)); n > 0 {
		if rerr := r.record(changes[:n], res[:n]); err == nil {
			err = rerr
		}
	}
	return err
}

// record acts on the tracker's outcomes for reported changes
// (decide.Record): stages what became of each in the index, keeps a lost
// conflict's copy first, forgets the wants our current versions make
// obsolete.
func (r *reporter) record(batch []decide.Change, res []tracker.Result) error {
	steps, obsolete := decide.Record(batch, res)
	var removed []string
	// The entries are staged together (one index write for the report),
	// and before a conflict copy is made, in order.
	var staged []index.Entry
	stage := func() {
		if len(staged) > 0 {
			r.idx.Stage(staged...)
			staged = nil
		}
	}
	sum := r.sum
	if sum == nil { // not a scan's report (a re-announce): one line for it
		sum = &localSummary{}
		defer sum.log(r.log)
	}
	for i, s := range steps {
		c := batch[i]
		p := c.Manifest.Path
		switch s.Kind {
		case decide.RecordLocal:
			r.stats.LocalChanges.Add(1)
			r.state.live.event(localapi.EventLocalChange, p)
			sum.add(&c.Manifest)
			r.log.Debug("local change", "path", p, "deleted", c.Manifest.Deleted, "outcome", res[i].Outcome.String())
		case decide.RecordConflict, decide.RecordConflictCopy:
			r.stats.Conflicts.Add(1)
			if s.Kind == decide.RecordConflictCopy {
				// Our version lost the name: keep it under the conflict
				// name before the winner replaces it here.
				stage()
				st, err := r.keepConflictCopy(&c.Manifest, s.CopyTo, c.Stat)
				if err != nil {
					r.log.Error("keep conflict copy", "path", p, "copy", s.CopyTo, "err", err)
					continue // index unchanged: the file is not overwritten
				}
				s.Entry.Stat = st
				r.state.live.event(localapi.EventConflict, s.CopyTo)
				kick(r.scanKick)
			}
			r.log.Warn("conflict", "path", p, "our_copy", res[i].Path)
		case decide.RecordDeletionLost:
			r.log.Info("local deletion lost to a newer version", "path", p)
		case decide.RecordOutdated:
			r.log.Info("version reported before a stop was replaced since; receiving the newer one", "path", p)
		case decide.RecordRejected:
			r.state.noteRejected(&c.Manifest, r.idx.Seq())
			r.log.Warn("tracker rejected local change", "path", p, "err", res[i].Err)
		}
		if s.Kind != decide.RecordNothing && s.Kind != decide.RecordRejected {
			// The path now stands for our version: the winner of a
			// conflict may replace it.
			staged = append(staged, s.Entry)
		}
		if s.Unindex {
			removed = append(removed, p)
		}
	}
	stage()
	for _, p := range removed {
		if err := r.store.RemoveFile(p); err != nil {
			r.log.Debug("chunk store forget", "path", p, "err", err)
		}
	}
	// On failure the staged entries stay staged and the dones are held: no
	// pull applies a want they make obsolete before they are stored.
	return r.writes.forgetWants(obsolete)
}

// absPath is the absolute path of the folder-relative rel below root.
func absPath(root, rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

// gone reports whether a stat error means the path does not exist (also
// when a parent is now a file).
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
