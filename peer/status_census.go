package peer

import (
	"strings"
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

// censusCost bounds the time spent counting: a count that took d is not
// redone for censusCost*d (if longer than censusMaxAge), so a folder of a
// million files, whose count walks the whole index, is recounted at most
// a few percent of the time however often Status is asked.
const censusCost = 20

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
	took                              time.Duration // how long the count took
}

// countNow returns the folder's census, recounted if its key changed and
// it is older than censusMaxAge (and censusCost times the last count's
// duration). The count runs without l.mu held.
func (l *folderLive) countNow(idx *index.Index, ign *ignoreRules, key censusKey, folder string, now time.Time) census {
	l.mu.Lock()
	c := l.census
	l.mu.Unlock()
	if !c.at.IsZero() && (c.key == key || now.Sub(c.at) < max(censusMaxAge, censusCost*c.took)) {
		return c
	}
	began := time.Now()
	c = count(idx, ign, folder)
	c.at, c.key, c.took = now, key, time.Since(began)
	l.mu.Lock()
	l.census = c
	l.mu.Unlock()
	return c
}

// count counts the folder's index, leaving out ignored paths (their wants
// stay stored but are never pulled). It walks the entries and the wants
// side by side, a page of each at a time (both in walk order), so that it
// holds two pages whatever the folder's size.
func count(idx *index.Index, ign *ignoreRules, folder string) census {
	var c census
	rules := ign.matcher() // one set of rules for wants and files
	ignored := rules.Checker()
	wants := &wantWalk{idx: idx, rules: rules}
	pages := idx.NewPageReader(true) // heads: sizes and kinds, no piece lists
	after := ""
	for {
		page, err := pages.Page(after, index.DefaultPage)
		if err != nil {
			c.err = err
			break
		}
		for _, e := range page {
			p := e.Manifest.Path
			wanted := wants.upTo(p, &c)
			if e.Manifest.Kind != manifest.KindFile || e.Manifest.Deleted || ignored.Ignored(p, false) {
				continue
			}
			if cf, ok := parseConflict(folder, p); ok {
				cf.Time = cf.Time.UTC()
				c.conflicts = append(c.conflicts, cf)
			}
			if wanted {
				continue
			}
			c.files++
			c.filesInSync++
			c.bytes += e.Manifest.Size
			c.inSync += e.Manifest.Size
		}
		if len(page) < index.DefaultPage {
			break
		}
		after = page[len(page)-1].Manifest.Path
	}
	wants.upTo("", &c) // the wants after the last entry
	if wants.err != nil && c.err == nil {
		c.err = wants.err
	}
	return c
}

// wantWalk counts the unignored wants in walk order, a page at a time, for
// count.
type wantWalk struct {
	idx   *index.Index
	rules *ignore.Matcher
	page  []index.Want // unignored, not counted yet
	after string       // last path read
	done  bool
	err   error
}

// upTo counts into c every want up to path p (every remaining one if p is
// "") and reports whether one is at p.
func (w *wantWalk) upTo(p string, c *census) bool {
	for {
		for len(w.page) > 0 {
			x := w.page[0].Manifest
			cmp := index.ComparePaths(x.Path, p)
			if p != "" && cmp > 0 {
				return false
			}
			w.page = w.page[1:]
			c.wants++
			if x.Kind == manifest.KindFile && !x.Deleted {
				c.files++
				c.bytes += x.Size
			}
			if p != "" && cmp == 0 {
				return true
			}
		}
		if w.done {
			return false
		}
		page, err := w.idx.WantsPage(w.after, index.DefaultPage)
		if err != nil {
			w.err, w.done = err, true
			return false
		}
		if len(page) < index.DefaultPage {
			w.done = true
		}
		if len(page) > 0 {
			w.after = page[len(page)-1].Manifest.Path
		}
		w.page = unignoredWants(w.rules, page) // ignored paths are not synced (ignore.go)
	}
}

// parseConflict reads a conflict copy's name (tracker.ParseConflictName):
// the path it is a copy of, the device whose version lost and the time of
// that version.
func parseConflict(folder, p string) (localapi.Conflict, bool) {
	orig, dev, t, ok := tracker.ParseConflictName(p)
	if !ok {
		return localapi.Conflict{}, false
	}
	// Copies: p is often a slice of an index page, which it would keep alive.
	return localapi.Conflict{Folder: folder, Path: strings.Clone(p), Original: strings.Clone(orig), Device: strings.Clone(dev), Time: t}, true
}
