package peer

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/scan"
)

// applier makes the disk writes of a pull: it creates directories, puts
// complete versions in place (alone or in batches), renames moved files,
// deletes, and stages each in the index. Every write is checked right
// before it happens: the folder is there, the version still wanted, the
// target not edited since it was synced (else the edit wins).
type applier struct {
	root     string
	log      *slog.Logger
	idx      *index.Index
	store    *chunkstore.Store
	stats    *Stats
	state    *syncState
	guard    *folderGuard
	keep     *versionKeeper
	scanKick chan struct{} // a write found a local change: scan
	ignore   *ignoreRules  // ignored contents keep a deleted directory

	afterRename  func()           // Config.Debug.AfterRename; nil in production
	beforeCommit func(abs string) // tests: between the target's check and the rename

	umask os.FileMode // the process umask: the mode of new files (filemode.go)
}

// renamed runs the crash-test hook Config.Debug.AfterRename, if any,
// after a rename into place and before the index records it.
func (a *applier) renamed() {
	if a.afterRename != nil {
		a.afterRename()
	}
}

// forget tells the chunk store the file at path is gone from there.
func (a *applier) forget(path string) {
	if err := a.store.RemoveFile(path); err != nil {
		a.log.Debug("chunk store forget", "path", path, "err", err)
	}
}

// stillWanted reports whether m is still the version wanted for its path.
// Call it after beginApply, right before changing the disk: a want can turn
// obsolete while its pieces are fetched (a newer version was announced, or
// this peer's own edit became current).
func (a *applier) stillWanted(m *manifest.Manifest) bool {
	id, ok := a.idx.WantID(m.Path)
	return ok && id == m.ID
}

// edited reports whether the file at rel (on disk at abs) differs from what
// the index says was synced there (decide.Edited): a local edit not yet
// reported, which a remote version must not replace.
func (a *applier) edited(rel, abs string) bool {
	ie, ok := a.idx.Get(rel)
	return decide.Edited(ie, ok, decide.DiskOf(os.Lstat(abs)))
}

// dataSync says whether seal makes a partial's data durable itself.
type dataSync bool

const (
	dataSynced   dataSync = true  // chunkstore.Partial.Seal: durable now (apply)
	dataUnsynced dataSync = false // SealUnsynced: the CommitBatch that commits it syncs it (applyBatch)
)

// seal sets the mode and modification time on a complete partial and
// seals it, its data made durable now or by its commit batch (dataSync).
// It returns done if it did; on failure the partial is closed (resumable)
// and the want is to be retried (writeFailed).
func (a *applier) seal(m *manifest.Manifest, part *chunkstore.Partial, sync dataSync) outcome {
	// the target as the applier will find it (target may spell it
	// otherwise on a case-insensitive disk: then the new-file mode)
	keep := filepath.Join(a.root, filepath.FromSlash(m.Path))
	if err := setMeta(part.Path(), keep, m, a.umask); err != nil {
		part.Close()
		return a.writeFailed(m.Path, "set mode and mtime", err)
	}
	seal := part.SealUnsynced
	if sync == dataSynced {
		seal = part.Seal
	}
	if err := seal(); err != nil {
		return a.writeFailed(m.Path, "seal", err)
	}
	return done
}

// readyTarget checks, right before the rename, that m may replace what is
// at abs: m is still the wanted version and the target was not edited
// meanwhile (else the edit wins: the scan reports it, and the tracker
// decides the conflict). A synced directory in the way is removed if
// empty; a file in the way is kept in versions (retry if it cannot be).
// Call it between beginApply and endApply. Nothing is written into a
// paused folder, nor one whose marker just vanished (an unmount).
func (a *applier) readyTarget(m *manifest.Manifest, abs string) outcome {
	if !a.guard.present() {
		return retry
	}
	if !a.stillWanted(m) {
		return obsolete
	}
	if a.nameClash(m) {
		return parked
	}
	if a.caseTwinApplying(m.Path) {
		return retry
	}
	if a.edited(m.Path, abs) {
		return a.editedOutcome(m.Path, abs)
	}
	if a.copyPending(m) { // conflict_pending.go: the copy arrived during the fetch
		return retry
	}
	if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
		// A file replaces a synced directory: its contents' deletions
		// run later in the pull, so this may take another round.
		if err := os.Remove(abs); err != nil {
			if a.state.faults.failed(m.Path, "remove the directory a file replaces", err) {
				return failed
			}
			return retry
		}
	}
	if a.state.faults.attempts(m.Path) > 0 {
		// A retry after a failed write: not another kept version for a
		// directory that still cannot be written.
		if err := dirWritable(filepath.Dir(abs)); err != nil {
			return a.writeFailed(m.Path, "commit", err)
		}
	}
	if err := a.keep.keepReplaced(m.Path); err != nil {
		return a.writeFailed(m.Path, "cannot keep the version a remote change replaces: not replacing it yet", err)
	}
	return done
}

// commitTarget says whether the commit of m may replace a file: only an
// update of the synced file readyTarget found unchanged. Any other target
// was absent when readyTarget looked (a file there would have been an
// edit), and a file that appears there before the rename is the user's:
// chunkstore.New never replaces it.
func (a *applier) commitTarget(m *manifest.Manifest) chunkstore.Target {
	if ie, ok := a.idx.Get(m.Path); ok && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindFile {
		return chunkstore.Replace
	}
	return chunkstore.New
}

// commitFailed is the outcome of a failed commit of the version at rel: a
// file that appeared at the target meanwhile is an edit (it wins, and the
// scan reports it); anything else a failed write.
func (a *applier) commitFailed(rel, abs string, err error) outcome {
	if errors.Is(err, chunkstore.ErrTargetExists) {
		a.log.Info("a file appeared where a remote version was going: kept, not replaced", "path", rel)
		return a.editedOutcome(rel, abs)
	}
	return a.writeFailed(rel, "commit", err)
}

// apply commits a complete partial over the target, unless the target was
// edited meanwhile, and stages the new index entry.
func (a *applier) apply(m *manifest.Manifest, part *chunkstore.Partial, abs string) outcome {
	if o := a.seal(m, part, dataSynced); o != done {
		return o
	}
	if !a.state.beginApply(m.Path) {
		part.Close()
		return retry
	}
	defer a.state.endApply(m.Path)
	if o := a.readyTarget(m, abs); o != done {
		part.Close()
		return o
	}
	if a.beforeCommit != nil {
		a.beforeCommit(abs)
	}
	if err := part.CommitTo(abs, a.commitTarget(m)); err != nil {
		return a.commitFailed(m.Path, abs, err)
	}
	a.renamed()
	a.idx.Stage(index.Entry{Manifest: *m, Stat: a.appliedStat(m, abs)})
	a.stats.FilesApplied.Add(1)
	a.state.live.event(localapi.EventApplied, m.Path)
	a.log.Debug("applied", "path", m.Path, "size", m.Size)
	return done
}

// applyDir creates a remote directory. A synced file in its way is first
// set aside to a path keep wants its version at (keep lists the round's
// new paths with a file ID: its conflict copy), else removed.
func (a *applier) applyDir(r *round, w index.Want, keep func(manifest.ID) []index.Want) outcome {
	if !a.guard.present() {
		return retry
	}
	abs, made, err := target(a.root, w.Manifest.Path, createParents)
	stageDirs(a.idx, made)
	if err != nil {
		return a.writeFailed(w.Manifest.Path, "cannot create directory", err)
	}
	if !a.state.beginApply(w.Manifest.Path) {
		return retry
	}
	defer a.state.endApply(w.Manifest.Path)
	if !a.stillWanted(&w.Manifest) {
		return obsolete
	}
	if ie, ok := a.idx.Get(w.Manifest.Path); ok && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindFile {
		// A directory replaces a synced file, if it is still that file.
		if fi, err := os.Lstat(abs); err == nil && fi.Mode().IsRegular() && scan.StatOf(fi) == ie.Stat {
			var wants []index.Want
			if keep != nil {
				wants = keep(ie.Manifest.ID)
			}
			moved, ok := a.setAside(r, w.Manifest.Path, ie, abs, wants)
			if !ok {
				return retry
			}
			if !moved {
				if err := a.keep.removeKept(w.Manifest.Path, abs, ie.Stat); err != nil {
					if a.state.faults.failed(w.Manifest.Path, "remove the file a directory replaces", err) {
						return failed
					}
					return retry
				}
				a.forget(w.Manifest.Path)
			}
		}
	}
	if err := os.Mkdir(abs, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return a.writeFailed(w.Manifest.Path, "create directory", err)
	}
	if fi, err := os.Lstat(abs); err != nil || !fi.IsDir() {
		return edited // a file is where the directory goes
	}
	a.idx.Stage(index.Entry{Manifest: w.Manifest})
	return done
}

// stageDirs records in idx the parent directories target created.
func stageDirs(idx *index.Index, made []string) {
	for _, p := range made {
		if _, ok := idx.Get(p); !ok {
			idx.Stage(index.Entry{Manifest: manifest.NewDir(p, time.Now().UnixNano())})
		}
	}
}

// applyDelete removes the path of a tombstone if it still is the deleted
// version (decide.Delete: a file is moved into versions, a directory
// removed once empty); a local edit is kept (and reported by the next
// scan). A synced file whose version is still wanted under a conflict name
// of its path, not built yet, waits for that copy (copyPending): the copy
// is built from it.
func (a *applier) applyDelete(w index.Want) outcome {
	if !a.guard.present() {
		return retry // an unmounted folder's "absent" files are not deleted ones
	}
	m := w.Manifest
	abs, _, err := target(a.root, m.Path, existingParents)
	if errors.Is(err, os.ErrNotExist) {
		a.idx.Stage(index.Entry{Manifest: m})
		return done
	}
	if err != nil {
		a.log.Warn("cannot delete", "path", m.Path, "err", err)
		return done
	}
	if !a.state.beginApply(m.Path) {
		return retry
	}
	defer a.state.endApply(m.Path)
	if !a.stillWanted(&m) {
		return obsolete
	}
	ie, ok := a.idx.Get(m.Path)
	switch decide.Delete(ie, ok, decide.DiskOf(os.Lstat(abs))) {
	case decide.DeleteGone:
	case decide.DeleteUnsynced:
		// Present but never synced: a local file, reported by the next scan.
		kick(a.scanKick)
		return done
	case decide.DeleteDir:
		if err := os.Remove(abs); err != nil {
			return a.dirNotEmpty(m.Path, abs, err)
		}
		a.stats.FilesDeleted.Add(1)
	case decide.DeleteEdited:
		a.log.Info("deleted remotely but edited here: keeping it", "path", m.Path)
		a.stats.Conflicts.Add(1)
		return edited
	case decide.DeleteFile:
		if a.copyPending(&m) { // conflict_pending.go: the version here is still wanted as a conflict copy
			return retry
		}
		if err := a.keep.removeKept(m.Path, abs, ie.Stat); err != nil {
			return a.writeFailed(m.Path, "delete", err)
		}
		a.forget(m.Path)
		a.stats.FilesDeleted.Add(1)
		a.state.live.event(localapi.EventDeleted, m.Path)
	}
	a.idx.Stage(index.Entry{Manifest: m})
	return done
}

// appliedStat returns the stat to record for a version just written to abs.
// If the file is not what was written (a local edit raced the apply), it
// returns a stat no file has, so the next scan hashes the file and reports
// the edit.
func (a *applier) appliedStat(m *manifest.Manifest, abs string) scan.Stat {
	fi, err := os.Lstat(abs)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Size || fi.ModTime().UnixNano() != m.ModTime {
		kick(a.scanKick)
		return scan.Stat{Size: -1}
	}
	return scan.StatOf(fi)
}
