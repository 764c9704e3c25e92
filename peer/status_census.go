package peer

import (
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/tracker"
)

// censusMaxAge: the folder's counts are recounted at most this often
// (Status may be asked several times a second; a count walks the index),
// and only when something may have changed them (censusKey).
const censusMaxAge = 2 * time.Second

// censusKey changes whenever the counts may have: the index's sequence
// number and size, and the folder's counters of applied, deleted and
// reported files and of scans, and the ignore rules (ignored paths are
// not counted).
type censusKey struct {
	seq, n, applied, deleted, local, scans int64
	rules                                  *ignore.Matcher
}

func (f *folder) censusKey() censusKey {
	s := f.stats
	return censusKey{
		seq: int64(f.idx.Seq()), n: int64(f.idx.Len()), applied: s.FilesApplied.Load(), deleted: s.FilesDeleted.Load(),
		local: s.LocalChanges.Load(), scans: s.ScansCompleted.Load(), rules: f.ignore.matcher(),
	}
}

// census is the folder's counts from its index: files and bytes the
// tracker lists (the wanted version where one waits, else the one here),
// those in sync, the wants, and the conflict copies present.
type census struct {
	at                                time.Time
	key                               censusKey
	files, filesInSync, bytes, inSync int64
	wants                             int64
	conflicts                         []localapi.Conflict
	err                               error
}

// countNow returns the folder's census, recounted if its key changed and
// it is older than censusMaxAge. The count runs without l.mu held.
func (l *folderLive) countNow(idx *index.Index, ign *ignoreRules, key censusKey, folder string, now time.Time) census {
	l.mu.Lock()
	c := l.census
	l.mu.Unlock()
	if !c.at.IsZero() && (c.key == key || now.Sub(c.at) < censusMaxAge) {
		return c
	}
	c = count(idx, ign, folder)
	c.at, c.key = now, key
	l.mu.Lock()
	l.census = c
	l.mu.Unlock()
	return c
}

// count counts the folder's index, leaving out ignored paths (their wants
// stay stored but are never pulled).
func count(idx *index.Index, ign *ignoreRules, folder string) census {
	var c census
	wants, err := idx.Wants()
	if err != nil {
		c.err = err
	}
	rules := ign.matcher()               // one set of rules for wants and files
	wants = unignoredWants(rules, wants) // ignored paths are not synced (ignore.go)
	ignored := rules.Checker()
	c.wants = int64(len(wants))
	wanted := make(map[string]bool, len(wants))
	for _, w := range wants {
		wanted[w.Manifest.Path] = true
		if m := w.Manifest; m.Kind == manifest.KindFile && !m.Deleted {
			c.files++
			c.bytes += m.Size
		}
	}
	for _, p := range idx.Paths() {
		e, ok := idx.Get(p)
		if !ok || e.Manifest.Kind != manifest.KindFile || e.Manifest.Deleted || ignored.Ignored(p, false) {
			continue
		}
		if cf, ok := parseConflict(folder, p); ok {
			cf.Time = cf.Time.UTC()
			c.conflicts = append(c.conflicts, cf)
		}
		if wanted[p] {
			continue
		}
		c.files++
		c.filesInSync++
		c.bytes += e.Manifest.Size
		c.inSync += e.Manifest.Size
	}
	return c
}

// parseConflict reads a conflict copy's name (tracker.ParseConflictName):
// the path it is a copy of, the device whose version lost and the time of
// that version.
func parseConflict(folder, p string) (localapi.Conflict, bool) {
	orig, dev, t, ok := tracker.ParseConflictName(p)
	if !ok {
		return localapi.Conflict{}, false
	}
	return localapi.Conflict{Folder: folder, Path: p, Original: orig, Device: dev, Time: t}, true
}
