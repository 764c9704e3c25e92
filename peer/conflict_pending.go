package peer

import (
	"path"
	"strings"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
)

// copyPending reports whether m, an update of the file synced here, must
// wait: the version this peer holds at m.Path is also wanted under a
// conflict name of that path (the tracker moved it there when another
// device's concurrent edit took the name), and that copy is not built yet.
// The copy is built from the local file, so the update, which replaces
// that file, goes after it: a pull's new paths come before its updates,
// but the conflict's two wants may arrive between those phases, and
// then, with the other owners gone, no device could build the copy. The
// want is retried; the next round builds the copy first.
//
// Conflict names start with the stem of the path (tracker.ConflictName),
// so the wants looked at are one range of keys (index.WantsWithPrefix). A
// name so long that the tracker shortened its stem is not found here.
func (a *applier) copyPending(m *manifest.Manifest) bool {
	ie, ok := a.idx.Get(m.Path)
	if !ok || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindFile || m.Kind != manifest.KindFile {
		return false
	}
	dir, base := path.Split(m.Path)
	ext := path.Ext(base)
	if ext == base {
		ext = ""
	}
	ws, err := a.idx.WantsWithPrefix(dir+strings.TrimSuffix(base, ext)+".sync-conflict-", 64)
	if err != nil {
		a.log.Warn("read wants", "err", err)
		return true // not known: the update waits
	}
	if a.ignore != nil {
		ws = a.ignore.unignoredWants(ws) // an ignored copy is never built
	}
	for _, w := range ws {
		c := &w.Manifest
		if c.ID != ie.Manifest.ID || c.Kind != manifest.KindFile || c.Deleted {
			continue
		}
		if orig, _, _, ok := tracker.ParseConflictName(c.Path); !ok || orig != m.Path {
			continue
		}
		if ce, ok := a.idx.Get(c.Path); ok && ce.Manifest.ID == c.ID {
			continue // built
		}
		a.log.Debug("update waits for the conflict copy of the version here", "path", m.Path, "copy", c.Path)
		return true
	}
	return false
}
