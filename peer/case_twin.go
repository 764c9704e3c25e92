package peer

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dartsync/dartsync/manifest"
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
func (d *Daemon) tracked(p string) bool {
	if e, ok := d.idx.Get(p); ok && !e.Manifest.Deleted {
		return true
	}
	return d.isApplying(p)
}

// nameClash reports whether want m must be parked: its path is not synced
// here, yet it resolves on disk to another synced path (see judgeName).
// Call it right before deciding that the target was edited.
func (d *Daemon) nameClash(m *manifest.Manifest) bool {
	if e, ok := d.idx.Get(m.Path); ok && !e.Manifest.Deleted {
		return false // synced here under this name: the scan saw it listed so
	}
	if _, err := os.Lstat(d.abs(m.Path)); err != nil {
		return false
	}
	v, orig, disk := judgeName(m.Path, diskNames{d.cfg.Root}, d.tracked)
	if v != nameClash {
		return false
	}
	d.warnClash(m.Path, orig, disk)
	return true
}

// warnClash logs the clash of orig with disk once per daemon run.
func (d *Daemon) warnClash(p, orig, disk string) {
	key := [2]string{orig, disk}
	d.mu.Lock()
	if d.clashWarned == nil {
		d.clashWarned = make(map[[2]string]bool)
	}
	seen := d.clashWarned[key]
	d.clashWarned[key] = true
	d.mu.Unlock()
	if seen {
		d.log.Debug("name clash: not applied", "path", p, "synced_as", disk)
		return
	}
	d.log.Warn("name clash: this file system stores both names as one; the synced one is kept, the other is not applied here",
		"path", orig, "synced_as", disk)
}

// stillNamed reports whether the synced path p, which the local scan did
// not list, still exists under its own name (created since the scan), or
// is another synced path's name here (a clash: nothing to delete), or
// cannot be read. False means p is gone: deleted, or renamed to a spelling
// no synced path has (foo -> Foo on a case-insensitive file system, where
// Lstat("foo") still succeeds).
func (d *Daemon) stillNamed(p string) bool {
	if _, err := os.Lstat(d.abs(p)); err != nil {
		return !gone(err)
	}
	v, _, _ := judgeName(p, diskNames{d.cfg.Root}, func(q string) bool { return q != p && d.tracked(q) })
	return v != nameRenamed
}

// retryParked returns 1 if the round parked a want and also applied or
// deleted something (which may have ended the clash): one more round is
// due. Parked wants never cause a retry on their own.
func (r *round) retryParked(before StatsSnapshot) int {
	s := r.d.stats.Snapshot()
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
func (d *Daemon) respelled(from, to string) bool {
	if path.Dir(from) != path.Dir(to) {
		return false
	}
	disk, ok := diskSpelling(to, diskNames{d.cfg.Root})
	return ok && disk == from
}

// respell renames src to dst, two spellings of one file. A file system may
// do nothing on a rename onto the same file (POSIX allows it; Linux
// case-folding directories do): then the name goes through a temporary one
// in the same directory. It fails if the new spelling is not listed after.
func (d *Daemon) respell(src, dst string) error {
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	if d.listedExactly(dst) {
		return nil
	}
	tmp := dst + ".dartsync-rename"
	if rel, err := filepath.Rel(d.cfg.Root, tmp); err == nil && d.beginApply(filepath.ToSlash(rel)) {
		defer d.endApply(filepath.ToSlash(rel)) // the scan leaves it alone
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
	if !d.listedExactly(dst) {
		return fmt.Errorf("respell %s: the file system keeps the old name", dst)
	}
	return nil
}

// listedExactly reports whether the directory of abs lists its base name.
func (d *Daemon) listedExactly(abs string) bool {
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
func (d *Daemon) caseTwinApplying(p string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for q := range d.applying {
		if q != p && strings.EqualFold(q, p) {
			return true
		}
	}
	return false
}
