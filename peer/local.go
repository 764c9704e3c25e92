package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
	"github.com/dartsync/dartsync/peer/watch"
	"github.com/dartsync/dartsync/tracker"
)

// maxBatch is the most changes sent to the tracker in one FILE_UPDATE.
const maxBatch = 1000

// change is one local change to report, with the stat that proves it.
type change struct {
	m    manifest.Manifest
	stat index.Stat
}

// scanLoop runs a local scan whenever the watcher (changes) or a kick asks
// for one. Scans wait for the first registration (they need the piece
// size), and for the folder to be active (a resume kicks a scan).
func (d *Daemon) scanLoop(ctx context.Context, changes <-chan watch.Change) error {
	first := true
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-changes:
			if !c.All && !d.needsScan(c.Paths) {
				continue // only our own writes, already in the index
			}
			d.log.Debug("watcher", "paths", len(c.Paths), "all", c.All, "reason", c.Reason)
		case <-d.scanKick:
		case <-retry:
			retry = nil
		}
		if d.currentPieceSize() == 0 || d.client == nil {
			continue // not registered yet; Registered kicks a scan
		}
		scan := d.localScan
		if info, ok := d.pendingReannounce(); ok {
			scan = func(ctx context.Context) error { return d.reannounce(ctx, info) } // epoch.go
		}
		if err := scan(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errFolderPaused) {
				continue
			}
			d.log.Warn("local scan", "err", err)
			retry = time.After(d.cfg.Retry)
			continue
		}
		if first {
			first = false
			close(d.firstScanDone)
		}
		kick(d.pullKick)
	}
}

// needsScan reports whether any of the paths the watcher named differs from
// the index (so a scan is worth its walk). The peer's own writes are staged
// in the index before their events arrive, so they need none.
func (d *Daemon) needsScan(paths []string) bool {
	for _, p := range paths {
		if d.isApplying(p) {
			continue
		}
		ie, ok := d.idx.Get(p)
		live := ok && !ie.Manifest.Deleted
		fi, err := os.Lstat(d.abs(p))
		switch {
		case err != nil:
			if live {
				return true // deleted here
			}
		case !live:
			return true // new here
		case fi.IsDir():
			if ie.Manifest.Kind != manifest.KindDir {
				return true
			}
		case ie.Manifest.Kind != manifest.KindFile || statOf(fi) != ie.Stat:
			return true
		}
	}
	return false
}

// prev is the scanner's view of the index: the last synced manifest and stat
// of a live file.
func (d *Daemon) prev(path string) (manifest.Manifest, scan.Stat, bool) {
	e, ok := d.idx.Get(path)
	if !ok || e.Manifest.Deleted || e.Manifest.Kind != manifest.KindFile {
		return manifest.Manifest{}, scan.Stat{}, false
	}
	return e.Manifest, scanStat(e.Stat), true
}

// localScan scans the folder, diffs it against the index and reports the
// differences to the tracker. A paused folder reports nothing
// (errFolderPaused): the marker is checked before the walk, after it and
// after the diff (see pausedDuringScan).
func (d *Daemon) localScan(ctx context.Context) error {
	guard, ok := d.beginScan()
	if !ok {
		return errFolderPaused
	}
	start := time.Now()
	res, err := scan.Scan(ctx, d.cfg.Root, scan.Options{PieceSize: d.currentPieceSize(), Prev: d.prev, Log: d.log})
	if err != nil {
		if !d.checkFolder() {
			return errFolderPaused
		}
		return err
	}
	if d.pausedDuringScan(guard, "walk") {
		return errFolderPaused
	}
	var hashed []*manifest.Manifest
	for i := range res.Entries {
		e := &res.Entries[i]
		if e.Hashed && e.Manifest.Kind == manifest.KindFile && !e.Manifest.Deleted && e.Manifest.Size > 0 {
			hashed = append(hashed, &e.Manifest)
		}
	}
	if len(hashed) > 0 {
		// The chunk store learns where local pieces are, so a rename or a
		// conflict copy is built from them.
		if err := d.store.AddFiles(hashed); err != nil {
			d.log.Warn("index local pieces", "err", err)
		}
	}
	d.warnBadNames(res.Skipped)
	changes := d.diff(res.Entries, res.Skipped)
	if d.pausedDuringScan(guard, "diff") {
		return errFolderPaused
	}
	d.stats.ScansCompleted.Add(1)
	d.log.Debug("local scan", "entries", len(res.Entries), "hashed", len(hashed), "changes", len(changes),
		"took", time.Since(start))
	if len(changes) == 0 {
		return d.idx.Flush()
	}
	return d.report(ctx, changes)
}

// diff compares scan entries with the index. Unchanged files with a new stat
// are re-staged; changed, new and vanished paths become changes.
// A skipped path (a symlink, an unreadable directory, a busy file) is not
// treated as deleted, nor is anything below it.
func (d *Daemon) diff(entries []scan.Entry, skipped []scan.Skip) []change {
	seen := make(map[string]bool, len(entries))
	var out []change
	var restat []index.Entry
	for i := range entries {
		e := &entries[i]
		m := e.Manifest
		seen[m.Path] = true
		if d.isApplying(m.Path) {
			continue
		}
		st := indexStat(e.Stat)
		if m.Kind == manifest.KindDir {
			st = index.Stat{}
		}
		ie, ok := d.idx.Get(m.Path)
		if ok && !ie.Manifest.Deleted && ie.Manifest.ID == m.ID {
			if ie.Stat != st && m.Kind == manifest.KindFile {
				ne := ie
				ne.Stat = st
				ne.Manifest.ModTime, ne.Manifest.Exec = m.ModTime, m.Exec
				restat = append(restat, ne)
			}
			continue
		}
		if ok {
			m.Base = ie.Manifest.ID
		}
		if d.stillRejected(&m) {
			continue
		}
		// The file may have changed again (or been replaced by apply)
		// since it was scanned: report only what is still on disk.
		if m.Kind == manifest.KindFile {
			fi, err := os.Lstat(d.abs(m.Path))
			if err != nil || statOf(fi) != st {
				continue
			}
		}
		out = append(out, change{m: m, stat: st})
	}
	now := time.Now().UnixNano()
	for _, p := range d.idx.Paths() {
		if seen[p] || underSkipped(p, skipped) || d.isApplying(p) {
			continue
		}
		ie, _ := d.idx.Get(p)
		if ie.Manifest.Deleted {
			continue
		}
		if d.stillNamed(p) {
			continue // present after all (created since the scan, unreadable, or a name clash)
		}
		out = append(out, change{m: manifest.NewTombstone(p, ie.Manifest.Kind, ie.Manifest.ID, now)})
	}
	if len(restat) > 0 {
		d.idx.Stage(restat...)
	}
	return out
}

// report sends changes to the tracker in batches and records the outcomes.
func (d *Daemon) report(ctx context.Context, changes []change) error {
	for len(changes) > 0 {
		n := min(len(changes), maxBatch)
		batch := changes[:n]
		changes = changes[n:]
		req := make([]tracker.Change, len(batch))
		for i := range batch {
			req[i] = tracker.Change{New: batch[i].m}
		}
		d.setReporting(batch, true)
		res, err := d.update(ctx, req)
		if err != nil {
			d.setReporting(batch, false)
			return err
		}
		if len(res) != len(batch) {
			d.setReporting(batch, false)
			return errors.New("peer: tracker answered a different number of results")
		}
		err = d.record(batch, res)
		d.setReporting(batch, false)
		if err != nil {
			return err
		}
	}
	return nil
}

// record applies the tracker's outcomes for reported changes to the index.
// Where our version became current, announced versions older than it are
// forgotten: applying one would replace a newer file with an older one.
func (d *Daemon) record(batch []change, res []tracker.Result) error {
	var removed []string
	var obsolete []index.Done
	for i, r := range res {
		c := batch[i]
		p := c.m.Path
		if r.Outcome == tracker.Accepted || r.Outcome == tracker.Owner ||
			(r.Outcome == tracker.Conflict && (r.Path == "" || r.Path == p)) {
			obsolete = append(obsolete, index.Done{Path: p, Before: r.Seq})
		}
		switch r.Outcome {
		case tracker.Accepted, tracker.Owner:
			d.stats.LocalChanges.Add(1)
			d.idx.Stage(index.Entry{Manifest: c.m, Stat: c.stat})
			if c.m.Deleted {
				removed = append(removed, p)
			}
			d.log.Info("local change", "path", p, "deleted", c.m.Deleted, "outcome", r.Outcome.String())
		case tracker.Conflict:
			d.stats.Conflicts.Add(1)
			if r.Path != "" && r.Path != p {
				// Our version lost the name: keep it under the conflict
				// name before the winner replaces it here.
				st, err := d.keepConflictCopy(&c.m, r.Path, c.stat)
				if err != nil {
					d.log.Error("keep conflict copy", "path", p, "copy", r.Path, "err", err)
					continue // index unchanged: the file is not overwritten
				}
				c.stat = st
				kick(d.scanKick)
			}
			// The path now stands for our version: the winner may replace it.
			d.idx.Stage(index.Entry{Manifest: c.m, Stat: c.stat})
			d.log.Warn("conflict", "path", p, "our_copy", r.Path)
		case tracker.Rejected:
			if c.m.Deleted {
				// A deletion of an outdated version loses to the edit.
				d.idx.Stage(index.Entry{Manifest: c.m})
				removed = append(removed, p)
				d.log.Info("local deletion lost to a newer version", "path", p)
				continue
			}
			d.noteRejected(&c.m)
			d.log.Warn("tracker rejected local change", "path", p, "err", r.Err)
		}
	}
	for _, p := range removed {
		if err := d.store.RemoveFile(p); err != nil {
			d.log.Debug("chunk store forget", "path", p, "err", err)
		}
	}
	// On failure the staged entries stay staged and the dones are held: no
	// pull applies a want they make obsolete before they are stored.
	return d.forgetWants(obsolete)
}

// keepConflictCopy makes the file at m's path also appear at name (a hard
// link when possible, else a copy), if it still has the stat st that was
// reported with m. It returns the stat to record for m's path: a hard link
// changes only the file's ctime, which must not make the file look edited
// (the winner's apply would wait for a rescan).
func (d *Daemon) keepConflictCopy(m *manifest.Manifest, name string, st index.Stat) (index.Stat, error) {
	if !d.folderPresent() {
		return st, errFolderPaused
	}
	p := m.Path
	src, _, err := target(d.cfg.Root, p, false)
	if err != nil {
		return st, err
	}
	dst, made, err := target(d.cfg.Root, name, true)
	d.stageDirs(made)
	if err != nil {
		return st, err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return st, err
	}
	if statOf(fi) != st {
		return st, errors.New("file changed again since it was reported")
	}
	if dfi, err := os.Lstat(dst); err == nil {
		// Already there (an earlier attempt) only if it is this version:
		// anything else at that name must not pass for the copy, or the
		// winner would replace the only one.
		if os.SameFile(fi, dfi) {
			return st, nil
		}
		if dfi.Mode().IsRegular() && dfi.Size() == fi.Size() {
			if dm, err := manifest.BuildFile(context.Background(), d.cfg.Root, name, m.PieceSize); err == nil && dm.ID == m.ID {
				return st, nil
			}
		}
		return st, fmt.Errorf("%q exists and is not this version", name)
	}
	if err := os.Link(src, dst); err != nil {
		return st, copyFile(src, dst, fi.Mode().Perm(), fi.ModTime())
	}
	return linkedStat(src, st), nil
}

// linkedStat returns the stat of src after a hard link was made to it: st
// with the new ctime if nothing but the ctime changed, else st (an edit
// raced the link: the next scan sees it).
func linkedStat(src string, st index.Stat) index.Stat {
	fi, err := os.Lstat(src)
	if err != nil {
		return st
	}
	now := statOf(fi)
	if now.Size == st.Size && now.ModTime == st.ModTime && now.Inode == st.Inode {
		return now
	}
	return st
}

// underSkipped reports whether p is a skipped path or below one.
func underSkipped(p string, skipped []scan.Skip) bool {
	for _, s := range skipped {
		if p == s.Path || strings.HasPrefix(p, s.Path+"/") {
			return true
		}
	}
	return false
}

// gone reports whether a stat error means the path does not exist (also
// when a parent is now a file).
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
