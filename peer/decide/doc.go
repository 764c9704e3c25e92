// Package decide holds the peer's decisions as pure functions over plain
// values: what changed locally, what to record of the tracker's answers,
// which remote adds are renames, in which order and in which class wants are
// applied, and what a remote deletion or a new version may do to the file on
// disk. Nothing here reads the disk, the chunk store or the network, and
// the index only through the functions the peer passes (Lookup, Pager):
// the peer gathers those facts (a scan, index entries, one lstat) and acts
// on the answer. Every function has a table test.
//
// Terms (see peer/doc.go for the rest):
//
//   - Lookup: the index's view of a path (its last synced entry).
//   - Change: a local version to report, with the stat that proves it.
//   - Disk: what one lstat says is at a path (nothing, a regular file with
//     its stat, a directory, something else).
//   - Walk order: paths compared component by component ("a/x" before
//     "a.txt"; index.ComparePaths), the order of both the scan's batches
//     (scan.Stream) and the index's pages (index.Index.Page).
//   - Cursor: the index read forward in walk order, one page in memory.
//   - Local merge: the diff of a scan with the index in one pass of both in
//     walk order (LocalMerge), batch by batch; deletions are held until
//     the walk is complete.
package decide

import (
	"io/fs"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// Lookup returns the index entry of path (the last synced version): ok is
// false if the index has none.
type Lookup func(path string) (index.Entry, bool)

// Change is one local change to report, with the stat that proves it.
type Change struct {
	Manifest manifest.Manifest
	Stat     scan.Stat
}

// DiskKind is what an lstat found at a path.
type DiskKind uint8

const (
	DiskNone  DiskKind = iota // nothing (or the lstat failed)
	DiskFile                  // a regular file
	DiskDir                   // a directory
	DiskOther                 // a symlink or special file: never synced
)

// Disk is what one lstat says is at a path.
type Disk struct {
	Kind DiskKind
	Stat scan.Stat // StatOf the lstat; zero for DiskNone
}

// DiskOf summarises an lstat result (fi, err).
func DiskOf(fi fs.FileInfo, err error) Disk {
	switch {
	case err != nil:
		return Disk{}
	case fi.Mode().IsRegular():
		return Disk{Kind: DiskFile, Stat: scan.StatOf(fi)}
	case fi.IsDir():
		return Disk{Kind: DiskDir, Stat: scan.StatOf(fi)}
	default:
		return Disk{Kind: DiskOther, Stat: scan.StatOf(fi)}
	}
}

// liveKind returns the kind of a live index entry; ok is false if there is
// no entry or it is a tombstone.
func liveKind(ie index.Entry, indexed bool) (manifest.Kind, bool) {
	if !indexed || ie.Manifest.Deleted {
		return 0, false
	}
	return ie.Manifest.Kind, true
}
