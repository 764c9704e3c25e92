package decide

import (
	"strings"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// Diff is what a local scan found against the index.
type Diff struct {
	// Changes are the versions to report: new, changed and re-created
	// paths with Base = the index's file ID (a tombstone's for a path
	// created again; zero for a path never synced), and a tombstone for
	// every live indexed path the scan did not list. The caller still
	// drops those the disk contradicts by now (a file changed again since
	// it was hashed, a missing path that is present after all) and the
	// versions the tracker refused in the same circumstances.
	Changes []Change
	// Restat are the index entries of unchanged files whose stat moved (a
	// chmod, a new hard link, a touch): staged again with the new stat,
	// modification time and exec bit; nothing is reported.
	Restat []index.Entry
}

// LocalDiff compares a scan (entries and skipped paths, sorted by path)
// with the index (lookup, and paths: every indexed path). A path that busy
// reports (being applied: the puller's own write) is left alone. A skipped
// path, and anything below it, is never taken for deleted. now is the
// modification time of the tombstones.
func LocalDiff(entries []scan.Entry, skipped []scan.Skip, paths []string, lookup Lookup, busy func(string) bool, now int64) Diff {
	var d Diff
	seen := make(map[string]bool, len(entries))
	for i := range entries {
		e := &entries[i]
		m := e.Manifest
		seen[m.Path] = true
		if busy(m.Path) {
			continue
		}
		st := e.Stat
		if m.Kind == manifest.KindDir {
			st = scan.Stat{}
		}
		ie, ok := lookup(m.Path)
		if ok && !ie.Manifest.Deleted && ie.Manifest.ID == m.ID {
			if ie.Stat != st && m.Kind == manifest.KindFile {
				ne := ie
				ne.Stat = st
				ne.Manifest.ModTime, ne.Manifest.Exec = m.ModTime, m.Exec
				d.Restat = append(d.Restat, ne)
			}
			continue
		}
		if ok {
			m.Base = ie.Manifest.ID
		}
		d.Changes = append(d.Changes, Change{Manifest: m, Stat: st})
	}
	for _, p := range paths {
		if seen[p] || underSkipped(p, skipped) || busy(p) {
			continue
		}
		ie, ok := lookup(p)
		if !ok || ie.Manifest.Deleted {
			continue
		}
		d.Changes = append(d.Changes, Change{Manifest: manifest.NewTombstone(p, ie.Manifest.Kind, ie.Manifest.ID, now)})
	}
	return d
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

// NeedsScan reports whether a path the watcher named differs from its index
// entry (ie, indexed) by what is on disk now, so that a scan is worth its
// walk. The peer's own writes are staged in the index before their events
// arrive, so they need none.
func NeedsScan(ie index.Entry, indexed bool, disk Disk) bool {
	kind, live := liveKind(ie, indexed)
	switch {
	case disk.Kind == DiskNone:
		return live // deleted here
	case !live:
		return true // new here
	case disk.Kind == DiskDir:
		return kind != manifest.KindDir
	default:
		return kind != manifest.KindFile || disk.Stat != ie.Stat
	}
}

// Edited reports whether what is at a path (disk) differs from what the
// index says was synced there (ie, indexed): a local edit not reported
// yet, which a remote version must not replace. A synced file that is
// gone is not an edit (a deletion loses to a newer version); a synced
// directory a new file replaces is not one either (it is removed once
// empty); anything there that was never synced is.
func Edited(ie index.Entry, indexed bool, disk Disk) bool {
	kind, live := liveKind(ie, indexed)
	switch {
	case live && kind == manifest.KindFile:
		if disk.Kind == DiskNone {
			return false
		}
		return disk.Kind != DiskFile || disk.Stat != ie.Stat
	case live && kind == manifest.KindDir && disk.Kind == DiskDir:
		return false
	}
	return disk.Kind != DiskNone
}
