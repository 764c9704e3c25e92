package peer

import (
	"errors"
	"os"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// moves applies renames as renames: a new path whose version is exactly a
// local file that a tombstone in the same round deletes is moved there
// (no byte copied, none fetched). It returns the wants left to do.
func (d *Daemon) moves(r *round, adds, dels []index.Want) ([]index.Want, []index.Want) {
	byBase := make(map[manifest.ID]int) // deleted file ID -> index in dels
	for i, t := range dels {
		if t.Manifest.Kind == manifest.KindFile && !t.Manifest.Base.IsZero() {
			byBase[t.Manifest.Base] = i
		}
	}
	if len(byBase) == 0 {
		return adds, dels
	}
	moved := make(map[int]bool)
	var rest []index.Want
	for _, w := range adds {
		i, ok := byBase[w.Manifest.ID]
		if ok && !moved[i] && d.move(dels[i], w) {
			moved[i] = true
			r.note(w, done)
			r.note(dels[i], done)
			continue
		}
		rest = append(rest, w)
	}
	var left []index.Want
	for i, t := range dels {
		if !moved[i] {
			left = append(left, t)
		}
	}
	return rest, left
}

// move renames the local file that tombstone t deletes to the path of w
// (the same version), if that file is unchanged since it was synced and
// nothing is at w's path.
func (d *Daemon) move(t, w index.Want) bool {
	if !d.folderPresent() {
		return false
	}
	ie, ok := d.idx.Get(t.Manifest.Path)
	if !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile || ie.Manifest.ID != w.Manifest.ID {
		return false
	}
	src, _, err := target(d.cfg.Root, t.Manifest.Path, false)
	if err != nil {
		return false
	}
	dst, made, err := target(d.cfg.Root, w.Manifest.Path, true)
	d.stageDirs(made)
	if err != nil {
		return false
	}
	if !d.beginApply(t.Manifest.Path) {
		return false
	}
	defer d.endApply(t.Manifest.Path)
	if !d.beginApply(w.Manifest.Path) {
		return false
	}
	defer d.endApply(w.Manifest.Path)
	if !d.stillWanted(&t.Manifest) || !d.stillWanted(&w.Manifest) {
		return false
	}
	if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() || statOf(fi) != ie.Stat {
		return false
	}
	rename := os.Rename
	if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
		if !d.respelled(t.Manifest.Path, w.Manifest.Path) {
			return false
		}
		rename = d.respell // a case-only rename: dst is src
	}
	if err := rename(src, dst); err != nil {
		d.log.Debug("move", "from", t.Manifest.Path, "to", w.Manifest.Path, "err", err)
		return false
	}
	d.afterRename()
	if err := setMeta(dst, &w.Manifest); err != nil {
		d.log.Warn("set mode and mtime", "path", w.Manifest.Path, "err", err)
	}
	d.idx.Stage(index.Entry{Manifest: w.Manifest, Stat: d.appliedStat(&w.Manifest, dst)}, index.Entry{Manifest: t.Manifest})
	if err := d.store.RemoveFile(t.Manifest.Path); err != nil {
		d.log.Debug("chunk store forget", "path", t.Manifest.Path, "err", err)
	}
	m := w.Manifest
	if err := d.store.AddFile(&m); err != nil {
		d.log.Debug("chunk store add", "path", m.Path, "err", err)
	}
	d.stats.FilesApplied.Add(1)
	d.stats.FilesDeleted.Add(1)
	d.log.Debug("moved", "from", t.Manifest.Path, "to", w.Manifest.Path)
	return true
}
