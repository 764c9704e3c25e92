package peer

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// Name clashes. On a case-insensitive or normalization-insensitive file
// system two synced paths (a and A, or é in NFC and in NFD) are one local
// file. The peer keeps the one it has and parks the want of the other: it
// stays stored, is not applied, counts as neither pending nor edited (no
// retry, no rescan), and is looked at again by later pulls, so it is
// applied once the clash is gone (the other name deleted). Each clash is
// logged once, naming both paths.

// tracked reports whether p is synced here: live in the index, or being
// applied.
func tracked(idx *index.Index, state *syncState, p string) bool {
	if e, ok := idx.Get(p); ok && !e.Manifest.Deleted {
		return true
	}
	return state.isApplying(p)
}

// nameClash reports whether want m must be parked: its path is not synced
// here, yet it resolves on disk to another synced path (see judgeName).
// Call it right before deciding that the target was edited.
func (a *applier) nameClash(m *manifest.Manifest) bool {
	if e, ok := a.idx.Get(m.Path); ok && !e.Manifest.Deleted {
		return false // synced here under this name: the scan saw it listed so
	}
	if _, err := os.Lstat(absPath(a.root, m.Path)); err != nil {
		return false
	}
	v, orig, disk := judgeName(m.Path, diskNames{a.root}, func(q string) bool { return tracked(a.idx, a.state, q) })
	if v != nameClash {
		return false
	}
	if !a.state.firstClash(orig, disk) {
		a.log.Debug("name clash: not applied", "path", m.Path, "synced_as", disk)
		return true
	}
	a.log.Warn("name clash: this file system stores both names as one; the synced one is kept, the other is not applied here",
		"path", orig, "synced_as", disk)
	return true
}

// stillNamed reports whether the synced path p, which the local scan did
// not list, still exists under its own name (created since the scan), or
// is another synced path's name here (a clash: nothing to delete), or
// cannot be read. False means p is gone: deleted, or renamed to a spelling
// no synced path has (foo -> Foo on a case-insensitive file system, where
// Lstat("foo") still succeeds).
func (r *reporter) stillNamed(p string) bool {
	if _, err := os.Lstat(absPath(r.root, p)); err != nil {
		return !gone(err)
	}
	v, _, _ := judgeName(p, diskNames{r.root}, func(q string) bool { return q != p && tracked(r.idx, r.state, q) })
	return v != nameRenamed
}

// retryParked returns 1 if the round parked a want and also applied or
// deleted something (which may have ended the clash): one more round is
// due. Parked wants never cause a retry on their own.
func (r *round) retryParked(before StatsSnapshot) int {
	s := r.p.stats.Snapshot()
	r.mu.Lock()
	parked := r.parked
	r.mu.Unlock()
	if parked && (s.FilesApplied > before.FilesApplied || s.FilesDeleted > before.FilesDeleted) {
		return 1
	}
	return 0
}

// respelled reports whether the remote rename from -> to only changes the
// spelling of the last component, and to resolves here to from itself (foo
// -> Foo on a case-insensitive file system). A rename of a directory's
// spelling is not made here: its files clash, are parked, and are applied
// under the new spelling once the old one is deleted.
func respelled(root, from, to string) bool {
	if path.Dir(from) != path.Dir(to) {
		return false
	}
	disk, ok := diskSpelling(to, diskNames{root})
	return ok && disk == from
}

// respell renames src to dst, two spellings of one file in the folder at
// root. A file system may do nothing on a rename onto the same file (POSIX
// allows it; Linux case-folding directories do): then the name goes through
// a temporary one in the same directory (marked as being applied, so the
// scan leaves it alone). It fails if the new spelling is not listed after.
func respell(root string, state *syncState, src, dst string) error {
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	if listedExactly(dst) {
		return nil
	}
	tmp := dst + ".dartsync-rename"
	if rel, err := filepath.Rel(root, tmp); err == nil && state.beginApply(filepath.ToSlash(rel)) {
		defer state.endApply(filepath.ToSlash(rel)) // the scan leaves it alone
	}
	if err := os.Rename(src, tmp); err != nil {
		return fmt.Errorf("respell %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if berr := os.Rename(tmp, src); berr != nil {
			return fmt.Errorf("respell %s: %w (and back: %w)", dst, err, berr)
		}
		return fmt.Errorf("respell %s: %w", dst, err)
	}
	if !listedExactly(dst) {
		return fmt.Errorf("respell %s: the file system keeps the old name", dst)
	}
	return nil
}

// listedExactly reports whether the directory of abs lists its base name.
func listedExactly(abs string) bool {
	names, err := listNames(filepath.Dir(abs))
	if err != nil {
		return false
	}
	return slices.Contains(names, filepath.Base(abs))
}

// caseTwinApplying reports whether another path equal to p but for case is
// being applied. On a case-insensitive file system both are one file: the
// later rename would replace the earlier one's file before either is
// indexed. Checked after beginApply(p), right before the rename, so of two
// twins at least the later one sees the other; it is retried, and by then
// the first is synced and the second is parked (nameClash). On a
// case-sensitive file system the retry just applies it.
func (a *applier) caseTwinApplying(p string) bool { return a.state.twinApplying(p) }
