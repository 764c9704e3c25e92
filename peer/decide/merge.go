package decide

import (
	"strings"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// LocalMerge diffs a scan with the index in one pass, batch by batch:
// both come in walk order, so the scan's batches (scan.Stream) are merged
// with the index read forward page by page (Cursor). A path in both is
// compared; a path only the walk found is new; a path only the index has
// is a deletion candidate unless it is protected: below (or at) a path the
// walk skipped, ignored (the rules the walk used), busy (being applied),
// or a tombstone already.
//
// Deletions are held until Finish, when the whole walk is known: a scan
// that stops early (cancelled, an error) reports none, and a rename's new
// path is reported before its old path's tombstone, as a whole-tree diff
// did (a peer that pulls both may then build the new path from the old
// file). Memory: one index page, the current batch, and the deletions.
// The pages may hold heads (entries without their piece lists,
// index.PageReader): the merge uses the index's file IDs and stats only.
type LocalMerge struct {
	cur     *Cursor
	busy    func(string) bool
	ignored func(path string, isDir bool) bool
	now     int64

	// lastSkip is the last path the walk skipped: the index paths below
	// it come right after it in walk order.
	lastSkip  string
	deletions []Change
}

// NewLocalMerge returns a merge of a scan with the index page reads. busy
// reports the paths being applied (left alone); ignored, if set, the paths
// the walk's ignore rules leave out (never taken for deleted); now is the
// modification time of the tombstones.
func NewLocalMerge(page Pager, busy func(string) bool, ignored func(path string, isDir bool) bool, now int64) *LocalMerge {
	return &LocalMerge{cur: NewCursor(page), busy: busy, ignored: ignored, now: now}
}

// Batch merges the next batch of the walk: it returns the changes found in
// it (new, changed and re-created paths, Base = the index's file ID, a
// tombstone's for a path created again) and the entries to restage (see
// Diff). The deletions it finds are held for Finish.
func (m *LocalMerge) Batch(b scan.Batch) (Diff, error) {
	var d Diff
	es, ss := b.Entries, b.Skipped
	for len(es) > 0 || len(ss) > 0 {
		// An entry goes before a skip of the same path (a directory the
		// walk listed, then could not read).
		if len(ss) == 0 || (len(es) > 0 && index.ComparePaths(es[0].Manifest.Path, ss[0].Path) <= 0) {
			ie, ok := m.advance(es[0].Manifest.Path)
			m.entry(&d, &es[0], ie, ok)
			es = es[1:]
			continue
		}
		m.advance(ss[0].Path)
		m.lastSkip = ss[0].Path
		ss = ss[1:]
	}
	return d, m.cur.Err()
}

// Finish takes every index path after the last batch for missing (the walk
// is complete) and returns all the deletions, in walk order. Call it only
// once the scan ended without error.
func (m *LocalMerge) Finish() ([]Change, error) {
	for {
		e, ok := m.cur.Peek()
		if !ok {
			break
		}
		m.missing(e)
		m.cur.Next()
	}
	if err := m.cur.Err(); err != nil {
		return nil, err
	}
	dels := m.deletions
	m.deletions = nil
	return dels, nil
}

// Deletions is how many deletions are held for Finish.
func (m *LocalMerge) Deletions() int { return len(m.deletions) }

// advance takes the index paths before path for missing, and returns the
// index entry of path itself, moving past it.
func (m *LocalMerge) advance(path string) (index.Entry, bool) {
	for {
		e, ok := m.cur.Peek()
		if !ok {
			return index.Entry{}, false
		}
		switch index.ComparePaths(e.Manifest.Path, path) {
		case -1:
			m.missing(e)
			m.cur.Next()
		case 0:
			ie := *e
			m.cur.Next()
			return ie, true
		default:
			return index.Entry{}, false
		}
	}
}

// entry compares one entry of the walk with its index entry (ie, ok).
func (m *LocalMerge) entry(d *Diff, e *scan.Entry, ie index.Entry, ok bool) {
	mf := e.Manifest
	if m.busy(mf.Path) {
		return
	}
	st := e.Stat
	if mf.Kind == manifest.KindDir {
		st = scan.Stat{}
	}
	if ok && !ie.Manifest.Deleted && ie.Manifest.ID == mf.ID {
		if ie.Stat != st && mf.Kind == manifest.KindFile {
			ne := ie
			ne.Stat = st
			ne.Manifest.ModTime, ne.Manifest.Exec = mf.ModTime, mf.Exec
			// The page may hold heads (index.PageReader): the walk's
			// piece list is the index's (the same file ID).
			ne.Manifest.Pieces = mf.Pieces
			d.Restat = append(d.Restat, ne)
		}
		return
	}
	if ok {
		mf.Base = ie.Manifest.ID
	}
	d.Changes = append(d.Changes, Change{Manifest: mf, Stat: st})
}

// missing is an index path the walk did not find: a deletion unless it is
// protected.
func (m *LocalMerge) missing(e *index.Entry) {
	p := e.Manifest.Path
	switch {
	case e.Manifest.Deleted,
		m.lastSkip != "" && (p == m.lastSkip || strings.HasPrefix(p, m.lastSkip+"/")),
		m.ignored != nil && m.ignored(p, e.Manifest.Kind == manifest.KindDir),
		m.busy(p):
		return
	}
	m.deletions = append(m.deletions, Change{Manifest: manifest.NewTombstone(p, e.Manifest.Kind, e.Manifest.ID, m.now)})
}
