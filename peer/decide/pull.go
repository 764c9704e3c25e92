package decide

import (
	"sort"
	"strings"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// WantPlan is the order in which a pull applies its wants.
type WantPlan struct {
	// Finished: wants with nothing to do (the index has the version), or
	// with a path ValidatePath refuses (Invalid names them, for the log).
	Finished []index.Done
	Invalid  []string
	// Dirs: directories, by path (parents first). Applied first, so new
	// files have their directories.
	Dirs []index.Want
	// Adds: files at paths with no live synced file (new, re-created, or
	// replacing a directory). Before Updates, and moves are taken from
	// them first.
	Adds []index.Want
	// Updates: new versions of synced files.
	Updates []index.Want
	// Dels: tombstones, deepest paths first (then by path), so a
	// directory is empty when it is removed, and last, so a renamed
	// file's pieces are still on disk when its new path is built.
	Dels []index.Want
}

// Wants classifies wants (as the index stores them) against the index.
func Wants(wants []index.Want, lookup Lookup) WantPlan {
	var p WantPlan
	for _, w := range wants {
		path := w.Manifest.Path
		ie, ok := lookup(path)
		switch {
		case ok && ie.Manifest.ID == w.Manifest.ID:
			p.Finished = append(p.Finished, index.Done{Path: path, ID: w.Manifest.ID})
		case manifest.ValidatePath(path) != nil:
			p.Invalid = append(p.Invalid, path)
			p.Finished = append(p.Finished, index.Done{Path: path, ID: w.Manifest.ID})
		case w.Manifest.Deleted:
			p.Dels = append(p.Dels, w)
		case w.Manifest.Kind == manifest.KindDir:
			p.Dirs = append(p.Dirs, w)
		case !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile:
			p.Adds = append(p.Adds, w)
		default:
			p.Updates = append(p.Updates, w)
		}
	}
	sort.Slice(p.Dirs, func(i, j int) bool { return p.Dirs[i].Manifest.Path < p.Dirs[j].Manifest.Path })
	sort.Slice(p.Dels, func(i, j int) bool {
		di, dj := strings.Count(p.Dels[i].Manifest.Path, "/"), strings.Count(p.Dels[j].Manifest.Path, "/")
		if di != dj {
			return di > dj
		}
		return p.Dels[i].Manifest.Path < p.Dels[j].Manifest.Path
	})
	return p
}

// MoveFrom says which adds may be applied as renames: for adds[k], the
// index in dels of the tombstone whose file it may be renamed from, or -1.
// A move needs a file tombstone whose base (the version it deletes) is the
// add's version, and the index must hold exactly that version as a live
// file at the tombstone's path (the file here is unchanged since it was
// synced; the mover checks the disk). Of several tombstones deleting the
// same version, the last is taken. Adds are tried in order and a tombstone
// serves one move: a later add with the same version is tried only if the
// earlier one's move failed.
func MoveFrom(adds, dels []index.Want, lookup Lookup) []int {
	byBase := make(map[manifest.ID]int)
	for i, t := range dels {
		if t.Manifest.Kind == manifest.KindFile && !t.Manifest.Base.IsZero() {
			byBase[t.Manifest.Base] = i
		}
	}
	out := make([]int, len(adds))
	for k, w := range adds {
		out[k] = -1
		i, ok := byBase[w.Manifest.ID]
		if !ok {
			continue
		}
		ie, ok := lookup(dels[i].Manifest.Path)
		if !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile || ie.Manifest.ID != w.Manifest.ID {
			continue
		}
		out[k] = i
	}
	return out
}

// StillCurrent returns the applied versions still the newest this peer
// knows of (a new slice): no other version wanted at the path (wantID) and
// the index holding exactly it. Announcing ownership of a version the
// tracker has already replaced would read as a concurrent edit (a needless
// conflict copy); one changed here since is reported by the scan.
func StillCurrent(ms []manifest.Manifest, wantID func(path string) (manifest.ID, bool), lookup Lookup) []manifest.Manifest {
	var out []manifest.Manifest
	for _, m := range ms {
		if id, ok := wantID(m.Path); ok && id != m.ID {
			continue
		}
		if e, ok := lookup(m.Path); !ok || e.Manifest.ID != m.ID {
			continue
		}
		out = append(out, m)
	}
	return out
}

// DeleteAction is what a remote tombstone may do to what is at its path.
type DeleteAction uint8

const (
	// DeleteGone: nothing there: record the tombstone.
	DeleteGone DeleteAction = iota
	// DeleteUnsynced: something never synced here is there: keep it (the
	// next scan reports it); the tombstone is done.
	DeleteUnsynced
	// DeleteDir: a directory: remove it if empty, else see dirdelete.go.
	DeleteDir
	// DeleteFile: the synced, unchanged file: move it into versions.
	DeleteFile
	// DeleteEdited: edited here since it was synced: the edit wins and is
	// kept (the scan reports it; the tracker takes it over the deletion).
	DeleteEdited
)

// Delete decides what a remote deletion does to the path whose index entry
// is ie (indexed) and whose disk state is disk.
func Delete(ie index.Entry, indexed bool, disk Disk) DeleteAction {
	kind, live := liveKind(ie, indexed)
	switch {
	case disk.Kind == DiskNone:
		return DeleteGone
	case !live:
		return DeleteUnsynced
	case disk.Kind == DiskDir:
		return DeleteDir
	case kind != manifest.KindFile || disk.Stat != ie.Stat:
		return DeleteEdited
	default:
		return DeleteFile
	}
}
