package decide

import (
	"slices"

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

// LocalDiff compares a whole scan (entries and skipped paths) with the
// index (lookup, and paths: every indexed path the diff may take for
// deleted): LocalMerge over one batch, the deletions last. A path that busy
// reports (being applied: the puller's own write) is left alone. A skipped
// path, and anything below it, is never taken for deleted. now is the
// modification time of the tombstones. For small sets (tests, a handful of
// paths); the reporter streams with LocalMerge.
func LocalDiff(entries []scan.Entry, skipped []scan.Skip, paths []string, lookup Lookup, busy func(string) bool, now int64) Diff {
	b := scan.Batch{Entries: slices.Clone(entries), Skipped: slices.Clone(skipped)}
	slices.SortFunc(b.Entries, func(x, y scan.Entry) int { return index.ComparePaths(x.Manifest.Path, y.Manifest.Path) })
	slices.SortFunc(b.Skipped, func(x, y scan.Skip) int { return index.ComparePaths(x.Path, y.Path) })
	sorted := slices.SortedFunc(slices.Values(paths), index.ComparePaths)
	var listed []index.Entry
	for _, p := range slices.Compact(sorted) {
		if e, ok := lookup(p); ok {
			listed = append(listed, e)
		}
	}
	page := func(after string, n int) ([]index.Entry, error) {
		i, _ := slices.BinarySearchFunc(listed, after, func(e index.Entry, t string) int { return index.ComparePaths(e.Manifest.Path, t) })
		if i < len(listed) && after != "" && listed[i].Manifest.Path == after {
			i++
		}
		return slices.Clone(listed[i:min(i+n, len(listed))]), nil
	}
	m := NewLocalMerge(page, busy, nil, now)
	d, _ := m.Batch(b)
	dels, _ := m.Finish()
	d.Changes = append(d.Changes, dels...)
	return d
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
