package peer

import (
	"fmt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
)

// copyWantsPage is how many wants copyPending reads at once under a
// prefix: the conflict copies of one path, which are few (and, for a
// shortened name, of the paths that agree with it in what it keeps).
const copyWantsPage = 64

// copyPending reports whether m, an update or a deletion (a tombstone) of
// the file synced here, must wait: the version this peer holds at m.Path
// is also wanted under a conflict name of that path (the tracker moved it
// there when another device's concurrent edit took the name), and that
// copy is not built yet. The copy is built from the local file, so the
// update or deletion, which replaces or removes that file, goes after it:
// a pull's new paths come before its updates and deletions, but the
// conflict's wants (and a deletion of the winner that followed) may
// arrive after that phase, and then, with the other owners gone, no
// device could build the copy. The want is retried; the next round builds
// the copy first. A directory replacing the file sets it aside to the copy
// instead (applyDir); a directory's deletion removes no file (dirdelete.go).
//
// Conflict names start with the stem of the path, cut where the tracker
// shortened a long name (tracker.ConflictPrefixes: at most four prefixes),
// so the wants looked at are a few ranges of keys (index.WantsWithPrefix,
// read to their ends a page at a time), never all of them;
// tracker.IsConflictNameOf tells the path's copies from other names
// there, and only a copy of this very version (its file ID) counts.
func (a *applier) copyPending(m *manifest.Manifest) bool {
	ie, ok := a.idx.Get(m.Path)
	if !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile {
		return false
	}
	if !m.Deleted && m.Kind != manifest.KindFile {
		return false // a directory: applyDir sets the file aside to its copy
	}
	for _, prefix := range tracker.ConflictPrefixes(m.Path) {
		pending, err := a.copyPendingUnder(prefix, m, ie.Manifest.ID)
		if err != nil {
			a.log.Warn("read wants", "err", err)
			return true // not known: the change waits
		}
		if pending {
			return true
		}
	}
	return false
}

// copyPendingUnder reports whether a want under prefix, read a page at a
// time, is an unbuilt conflict copy of version id of m.Path.
func (a *applier) copyPendingUnder(prefix string, m *manifest.Manifest, id manifest.ID) (bool, error) {
	after := ""
	for {
		ws, err := a.idx.WantsWithPrefix(prefix, after, copyWantsPage)
		if err != nil {
			return false, fmt.Errorf("conflict copies of %q: %w", m.Path, err)
		}
		if len(ws) == 0 {
			return false, nil
		}
		after = ws[len(ws)-1].Manifest.Path
		last := len(ws) < copyWantsPage
		if a.ignore != nil {
			ws = a.ignore.unignoredWants(ws) // an ignored copy is never built
		}
		for _, w := range ws {
			c := &w.Manifest
			if c.ID != id || c.Kind != manifest.KindFile || c.Deleted || !tracker.IsConflictNameOf(c.Path, m.Path) {
				continue
			}
			if ce, ok := a.idx.Get(c.Path); ok && ce.Manifest.ID == c.ID {
				continue // built
			}
			a.log.Debug("change waits for the conflict copy of the version here", "path", m.Path, "copy", c.Path, "deletion", m.Deleted)
			return true, nil
		}
		if last {
			return false, nil
		}
	}
}
