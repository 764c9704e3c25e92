package peer

import (
	"context"
	"errors"
	"os"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// byFileID indexes the file versions wanted at new paths by file ID: a
// synced file about to give its path to a directory is set aside to one of
// them (setAside).
func byFileID(ws []index.Want) func(manifest.ID) []index.Want {
	out := make(map[manifest.ID][]index.Want)
	for _, w := range ws {
		if w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted {
			out[w.Manifest.ID] = append(out[w.Manifest.ID], w)
		}
	}
	return func(id manifest.ID) []index.Want { return out[id] }
}

// setAside runs before a directory replaces the synced, unchanged file at
// path (index entry ie, on disk at src). When the tracker decided a clash
// (a file here, a directory of the same name elsewhere), it keeps the
// directory under the name and the file under a conflict name, whose only
// owner may be this very peer: so if one of wants (the versions this pull
// adds with the file's ID) is at another path, the file is renamed there
// (or, if record's keepConflictCopy already linked it there, its old name
// is dropped) and recorded as that want applied, before anything is
// removed. It reports whether the file left src; ok is false when a want
// needs the file but it could not be put there: then nothing may remove it.
func (a *applier) setAside(r *round, path string, ie index.Entry, src string, wants []index.Want) (moved, ok bool) {
	needed := false
	for _, w := range wants {
		if w.Manifest.Path == path || w.Manifest.ID != ie.Manifest.ID {
			continue
		}
		needed = true
		dst, made, err := target(a.root, w.Manifest.Path, createParents)
		stageDirs(a.idx, made)
		if err != nil {
			a.log.Warn("cannot keep the file as its conflict copy", "path", path, "copy", w.Manifest.Path, "err", err)
			continue
		}
		if !a.state.beginApply(w.Manifest.Path) {
			continue
		}
		moved := a.setAsideTo(r, path, src, w, dst)
		a.state.endApply(w.Manifest.Path)
		if moved {
			return true, true
		}
	}
	return false, !needed
}

// setAsideTo moves the file at src (path) to dst, where w wants the same
// version, and stages it there. Call it between beginApply and endApply
// of w's path.
func (a *applier) setAsideTo(r *round, path, src string, w index.Want, dst string) bool {
	w, o := wholeWant(a.idx, a.log, w) // its entry and ownership need the pieces
	if o != done {
		return false
	}
	m := w.Manifest
	if !a.stillWanted(&m) {
		return false
	}
	dfi, err := os.Lstat(dst)
	switch {
	case err == nil:
		// Only this version may be there already (keepConflictCopy's hard
		// link, or its copy where links are not supported): then dropping
		// the old name keeps it.
		if !a.isVersion(src, dfi, &m) {
			a.log.Warn("cannot keep the file as its conflict copy: another file has that name", "path", path, "copy", m.Path)
			return false
		}
		if err := os.Remove(src); err != nil {
			a.log.Warn("remove after keeping the conflict copy", "path", path, "err", err)
			return false
		}
	case errors.Is(err, os.ErrNotExist):
		if err := os.Rename(src, dst); err != nil {
			a.log.Warn("cannot keep the file as its conflict copy", "path", path, "copy", m.Path, "err", err)
			return false
		}
	default:
		a.log.Warn("cannot keep the file as its conflict copy", "path", path, "copy", m.Path, "err", err)
		return false
	}
	if err := setMeta(dst, dst, &m, a.umask); err != nil {
		a.log.Warn("set mode and mtime", "path", m.Path, "err", err)
	}
	a.idx.Stage(index.Entry{Manifest: m, Stat: a.appliedStat(&m, dst)})
	a.forget(path)
	if err := a.store.AddFile(&m); err != nil {
		a.log.Debug("chunk store add", "path", m.Path, "err", err)
	}
	r.note(w, done)
	a.stats.FilesApplied.Add(1)
	a.log.Info("file kept under its conflict name: a directory took its name", "path", path, "copy", m.Path)
	return true
}

// isVersion reports whether the file at m's path (dfi) is version m: the
// file at src itself, or a file with m's content.
func (a *applier) isVersion(src string, dfi os.FileInfo, m *manifest.Manifest) bool {
	if sfi, err := os.Lstat(src); err == nil && os.SameFile(sfi, dfi) {
		return true
	}
	if !dfi.Mode().IsRegular() || dfi.Size() != m.Size {
		return false
	}
	got, err := manifest.BuildFile(context.Background(), a.root, m.Path, m.PieceSize)
	return err == nil && got.ID == m.ID
}

// unapplied drops the wants whose version the index already has at their
// path (set aside there earlier in the pull).
func (p *puller) unapplied(ws []index.Want) []index.Want {
	out := ws[:0]
	for _, w := range ws {
		if ie, ok := p.idx.Get(w.Manifest.Path); ok && ie.Manifest.ID == w.Manifest.ID {
			continue
		}
		out = append(out, w)
	}
	return out
}
