package peer

import (
	"context"
	"os"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// recoverApplied records what a crash left applied but unrecorded. Apply
// renames a version into place (or makes a directory) and only then
// stages it in the index; a want is forgotten only in the
// same transaction that writes its staged entry, and never replaced while
// its path is being applied (heldWrites). So after a crash, a path whose
// disk state is exactly its stored want was applied by this peer: it is
// recorded as that want applied (index entry = the want's manifest with
// the stat found, want done, ownership announced at the next flush)
// instead of being reported by the first scan as a local edit based on the
// old index entry, which would make a needless conflict copy of a version
// this peer merely received whenever the tracker has moved on since.
//
// It runs before the tracker client starts, so no update has replaced a
// want yet. It walks the wants a page at a time and records each page's
// finds in one index write; one info line counts them. It returns how
// many paths it recorded.
func (p *puller) recoverApplied(ctx context.Context) (int, error) {
	recorded := 0
	after := ""
	for {
		page, err := p.idx.WantsPage(after, p.pageSize())
		if err != nil {
			return recorded, err
		}
		n, err := p.recoverPage(ctx, page)
		recorded += n
		if err != nil {
			return recorded, err
		}
		if len(page) < p.pageSize() {
			break
		}
		after = page[len(page)-1].Manifest.Path
	}
	if recorded > 0 {
		p.log.Info("recorded versions applied before the last stop", "files", recorded)
	}
	return recorded, nil
}

// recoverPage is recoverApplied for one page of wants; it records what it
// finds in one index write.
func (p *puller) recoverPage(ctx context.Context, wants []index.Want) (int, error) {
	var dones []index.Done
	var owned []manifest.Manifest
	for _, w := range wants {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		m := w.Manifest
		e, ok := p.appliedOnDisk(ctx, &m)
		if !ok {
			continue
		}
		w, o := wholeWant(p.idx, p.log, w) // decoded one at a time (pull_whole.go)
		if o != done {
			continue
		}
		m, e.Manifest = w.Manifest, w.Manifest
		p.idx.Stage(e)
		dones = append(dones, index.Done{Path: m.Path, ID: m.ID})
		if m.Kind == manifest.KindFile {
			owned = append(owned, m)
			if m.Size > 0 {
				if err := p.store.AddFile(&m); err != nil {
					p.log.Debug("chunk store add", "path", m.Path, "err", err)
				}
			}
		}
		p.log.Debug("recorded a version applied before the last stop", "path", m.Path)
	}
	if len(dones) == 0 {
		return 0, nil
	}
	p.state.addUnannounced(owned...)
	// On failure the entries stay staged (the scan sees them recorded)
	// and the pull forgets the wants it finds applied.
	if err := p.writes.writer().Update(index.Batch{DoneWants: dones}); err != nil {
		return len(dones), err
	}
	return len(dones), nil
}

// appliedOnDisk reports whether the disk at m's path already is version m
// while the index says otherwise, and returns the index entry to record.
func (p *puller) appliedOnDisk(ctx context.Context, m *manifest.Manifest) (index.Entry, bool) {
	ie, had := p.idx.Get(m.Path)
	if had && ie.Manifest.ID == m.ID {
		return index.Entry{}, false // recorded; the pull forgets the want
	}
	abs, _, err := target(p.apply.root, m.Path, existingParents)
	if err != nil && !gone(err) {
		return index.Entry{}, false
	}
	var fi os.FileInfo
	if err == nil {
		fi, err = os.Lstat(abs)
	}
	switch {
	case m.Deleted, err != nil:
		// Absence is not evidence (the folder may be unmounted): a path
		// removed before the crash is reported by the scan as deleted,
		// which the tracker takes as this peer's agreement with the
		// tombstone, or rejects if the path was re-created meanwhile.
	case m.Kind == manifest.KindDir:
		if fi.IsDir() && (!had || ie.Manifest.Deleted || ie.Manifest.Kind != manifest.KindDir) {
			return index.Entry{Manifest: *m}, true
		}
	case fi.Mode().IsRegular() && fi.Size() == m.Size:
		if had && !ie.Manifest.Deleted && ie.Manifest.Kind == manifest.KindFile && scan.StatOf(fi) == ie.Stat {
			return index.Entry{}, false // still the indexed version
		}
		got, err := manifest.BuildFile(ctx, p.apply.root, m.Path, m.PieceSize)
		if err != nil || got.ID != m.ID {
			return index.Entry{}, false
		}
		// The stat of the file as hashed: a change since makes the scan
		// hash it again and report it.
		if after, err := os.Lstat(abs); err == nil && after.ModTime().UnixNano() == got.ModTime && after.Size() == got.Size {
			return index.Entry{Manifest: *m, Stat: scan.StatOf(after)}, true
		}
	}
	return index.Entry{}, false
}
