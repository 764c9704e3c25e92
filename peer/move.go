package peer

import (
	"errors"
	"os"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/scan"
)

// moves applies renames as renames: a new path whose version is exactly a
// local file that a tombstone in the same round deletes (decide.MoveFrom)
// is moved there (no byte copied, none fetched). dels is one window of
// the round's possible sources (pull_pages.go: pullMoves) and moved the
// ones of them used already; the adds it does not move are left to the
// adds phase.
func (p *puller) moves(r *round, adds, dels []index.Want, moved map[int]bool) {
	from := decide.MoveFrom(adds, dels, p.idx.Get)
	for k, w := range adds {
		i := from[k]
		if i < 0 || moved[i] {
			continue // left to the adds phase
		}
		var o outcome
		if w, o = wholeWant(p.idx, p.log, w); o != done {
			r.note(w, o)
			continue
		}
		if p.apply.move(dels[i], w) {
			moved[i] = true
			r.note(w, done)
			r.note(dels[i], done)
		}
	}
}

// move renames the local file that tombstone t deletes to the path of w
// (the same version), if that file is unchanged since it was synced and
// nothing is at w's path.
func (a *applier) move(t, w index.Want) bool {
	if !a.guard.present() {
		return false
	}
	ie, ok := a.idx.Get(t.Manifest.Path)
	if !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile || ie.Manifest.ID != w.Manifest.ID {
		return false
	}
	src, _, err := target(a.root, t.Manifest.Path, existingParents)
	if err != nil {
		return false
	}
	dst, made, err := target(a.root, w.Manifest.Path, createParents)
	stageDirs(a.idx, made)
	if err != nil {
		return false
	}
	if !a.state.beginApply(t.Manifest.Path) {
		return false
	}
	defer a.state.endApply(t.Manifest.Path)
	if !a.state.beginApply(w.Manifest.Path) {
		return false
	}
	defer a.state.endApply(w.Manifest.Path)
	if !a.stillWanted(&t.Manifest) || !a.stillWanted(&w.Manifest) {
		return false
	}
	if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() || scan.StatOf(fi) != ie.Stat {
		return false
	}
	// dst is absent: a file that appears there before the rename (the
	// user's) is not replaced (chunkstore.RenameNew): the move is not
	// made, and that file is an edit the scan reports.
	rename := chunkstore.RenameNew
	if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
		if !respelled(a.root, t.Manifest.Path, w.Manifest.Path) {
			return false
		}
		rename = func(src, dst string) error { return respell(a.root, a.state, src, dst) } // a case-only rename: dst is src
	}
	if err := rename(src, dst); err != nil {
		a.log.Debug("move", "from", t.Manifest.Path, "to", w.Manifest.Path, "err", err)
		return false
	}
	a.renamed()
	if err := setMeta(dst, dst, &w.Manifest, a.umask); err != nil {
		a.log.Warn("set mode and mtime", "path", w.Manifest.Path, "err", err)
	}
	a.idx.Stage(index.Entry{Manifest: w.Manifest, Stat: a.appliedStat(&w.Manifest, dst)}, index.Entry{Manifest: t.Manifest})
	a.forget(t.Manifest.Path)
	m := w.Manifest
	if err := a.store.AddFile(&m); err != nil {
		a.log.Debug("chunk store add", "path", m.Path, "err", err)
	}
	a.stats.FilesApplied.Add(1)
	a.stats.FilesDeleted.Add(1)
	a.state.live.event(localapi.EventApplied, w.Manifest.Path)
	a.log.Debug("moved", "from", t.Manifest.Path, "to", w.Manifest.Path)
	return true
}
