package peer

import (
	"errors"
	"os"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// edited reports whether the file at rel differs from what the index says
// was synced there (a local edit not yet reported). A file the index has
// but the disk does not is not an edit here: a deletion loses to a newer
// version (DESIGN §3).
func (d *Daemon) edited(rel, abs string) bool {
	ie, ok := d.idx.Get(rel)
	fi, err := os.Lstat(abs)
	if ok && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindFile {
		if err != nil {
			return false
		}
		return !fi.Mode().IsRegular() || statOf(fi) != ie.Stat
	}
	if ok && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindDir && err == nil && fi.IsDir() {
		return false // a synced directory the new file replaces (once empty)
	}
	return err == nil // something is there that was never synced
}

// seal sets the mode and modification time on a complete partial and
// seals it: with its data made durable (chunkstore.Partial.Seal) if sync,
// else left to the CommitBatch that commits it (SealUnsynced). It reports
// whether it did; on failure the partial is closed (resumable) and the want
// is to be retried.
func (d *Daemon) seal(m *manifest.Manifest, part *chunkstore.Partial, sync bool) bool {
	if err := setMeta(part.Path(), m); err != nil {
		part.Close()
		d.log.Warn("set mode and mtime", "path", m.Path, "err", err)
		return false
	}
	seal := part.SealUnsynced
	if sync {
		seal = part.Seal
	}
	if err := seal(); err != nil {
		d.log.Warn("seal", "path", m.Path, "err", err)
		return false
	}
	return true
}

// readyTarget checks, right before the rename, that m may replace what is
// at abs: m is still the wanted version and the target was not edited
// meanwhile (else the edit wins: the scan reports it, and the tracker
// decides the conflict). A synced directory in the way is removed if
// empty; a file in the way is kept in versions (retry if it cannot be).
// Call it between beginApply and endApply. Nothing is written into a
// paused folder, nor one whose marker just vanished (an unmount).
func (d *Daemon) readyTarget(m *manifest.Manifest, abs string) outcome {
	if !d.folderPresent() {
		return retry
	}
	if !d.stillWanted(m) {
		return obsolete
	}
	if d.nameClash(m) {
		return parked
	}
	if d.caseTwinApplying(m.Path) {
		return retry
	}
	if d.edited(m.Path, abs) {
		return edited
	}
	if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
		// A file replaces a synced directory: its contents' deletions
		// run later in the pull, so this may take another round.
		if err := os.Remove(abs); err != nil {
			return retry
		}
	}
	if !d.keepReplaced(m.Path) {
		return retry
	}
	return done
}

// apply commits a complete partial over the target, unless the target was
// edited meanwhile, and stages the new index entry.
func (d *Daemon) apply(m *manifest.Manifest, part *chunkstore.Partial, abs string) outcome {
	if !d.seal(m, part, true) {
		return retry
	}
	if !d.beginApply(m.Path) {
		part.Close()
		return retry
	}
	defer d.endApply(m.Path)
	if o := d.readyTarget(m, abs); o != done {
		part.Close()
		return o
	}
	if err := part.Commit(abs); err != nil {
		d.log.Warn("commit", "path", m.Path, "err", err)
		return retry
	}
	d.afterRename()
	d.idx.Stage(index.Entry{Manifest: *m, Stat: d.appliedStat(m, abs)})
	d.stats.FilesApplied.Add(1)
	d.log.Debug("applied", "path", m.Path, "size", m.Size)
	return done
}

// applyDir creates a remote directory. A synced file in its way is first
// set aside to a path keep wants its version at (its conflict copy), else
// removed.
func (d *Daemon) applyDir(r *round, w index.Want, keep map[manifest.ID][]index.Want) outcome {
	if !d.folderPresent() {
		return retry
	}
	abs, made, err := target(d.cfg.Root, w.Manifest.Path, true)
	d.stageDirs(made)
	if err != nil {
		d.log.Warn("cannot create directory", "path", w.Manifest.Path, "err", err)
		return retry
	}
	if !d.beginApply(w.Manifest.Path) {
		return retry
	}
	defer d.endApply(w.Manifest.Path)
	if !d.stillWanted(&w.Manifest) {
		return obsolete
	}
	if ie, ok := d.idx.Get(w.Manifest.Path); ok && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindFile {
		// A directory replaces a synced file, if it is still that file.
		if fi, err := os.Lstat(abs); err == nil && fi.Mode().IsRegular() && statOf(fi) == ie.Stat {
			moved, ok := d.setAside(r, w.Manifest.Path, ie, abs, keep[ie.Manifest.ID])
			if !ok {
				return retry
			}
			if !moved {
				if err := d.removeKept(w.Manifest.Path, abs, ie.Stat); err != nil {
					return retry
				}
				if err := d.store.RemoveFile(w.Manifest.Path); err != nil {
					d.log.Debug("chunk store forget", "path", w.Manifest.Path, "err", err)
				}
			}
		}
	}
	if err := os.Mkdir(abs, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		d.log.Warn("create directory", "path", w.Manifest.Path, "err", err)
		return retry
	}
	if fi, err := os.Lstat(abs); err != nil || !fi.IsDir() {
		return edited // a file is where the directory goes
	}
	d.idx.Stage(index.Entry{Manifest: w.Manifest})
	return done
}

// stageDirs records parent directories that apply created.
func (d *Daemon) stageDirs(made []string) {
	for _, p := range made {
		if _, ok := d.idx.Get(p); !ok {
			d.idx.Stage(index.Entry{Manifest: manifest.NewDir(p, time.Now().UnixNano())})
		}
	}
}

// applyDelete removes the path of a tombstone if it still is the deleted
// version (a file is moved into versions); a local edit is kept (and
// reported by the next scan).
func (d *Daemon) applyDelete(w index.Want) outcome {
	if !d.folderPresent() {
		return retry // an unmounted folder's "absent" files are not deleted ones
	}
	m := w.Manifest
	abs, _, err := target(d.cfg.Root, m.Path, false)
	if errors.Is(err, os.ErrNotExist) {
		d.idx.Stage(index.Entry{Manifest: m})
		return done
	}
	if err != nil {
		d.log.Warn("cannot delete", "path", m.Path, "err", err)
		return done
	}
	if !d.beginApply(m.Path) {
		return retry
	}
	defer d.endApply(m.Path)
	if !d.stillWanted(&m) {
		return obsolete
	}
	ie, ok := d.idx.Get(m.Path)
	fi, err := os.Lstat(abs)
	if err != nil {
		d.idx.Stage(index.Entry{Manifest: m})
		return done
	}
	if !ok || ie.Manifest.Deleted {
		// Present but never synced: a local file, reported by the next scan.
		kick(d.scanKick)
		return done
	}
	if fi.IsDir() {
		if err := os.Remove(abs); err != nil {
			return d.dirNotEmpty(m.Path, abs, err)
		}
	} else {
		if ie.Manifest.Kind != manifest.KindFile || statOf(fi) != ie.Stat {
			d.log.Info("deleted remotely but edited here: keeping it", "path", m.Path)
			d.stats.Conflicts.Add(1)
			return edited
		}
		if err := d.removeKept(m.Path, abs, ie.Stat); err != nil {
			d.log.Warn("delete", "path", m.Path, "err", err)
			return retry
		}
		if err := d.store.RemoveFile(m.Path); err != nil {
			d.log.Debug("chunk store forget", "path", m.Path, "err", err)
		}
	}
	d.idx.Stage(index.Entry{Manifest: m})
	d.stats.FilesDeleted.Add(1)
	return done
}

// appliedStat returns the stat to record for a version just written to abs.
// If the file is not what was written (a local edit raced the apply), it
// returns a stat no file has, so the next scan hashes the file and reports
// the edit.
func (d *Daemon) appliedStat(m *manifest.Manifest, abs string) index.Stat {
	fi, err := os.Lstat(abs)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Size || fi.ModTime().UnixNano() != m.ModTime {
		kick(d.scanKick)
		return index.Stat{Size: -1}
	}
	return statOf(fi)
}
