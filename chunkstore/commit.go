package chunkstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// Seal makes a complete partial (else ErrIncomplete) ready to be renamed
// into place: truncate to the file's size, fsync, close the file. Set the
// mode and modification time on Path() before calling Seal, so they are
// durable with the data. A sealed partial takes no more writes (ErrClosed);
// it stays open in the store until Commit or a CommitBatch renames it, or
// Close (it stays resumable) or Discard. Sealing twice does nothing. After a
// failed Seal the Partial is closed; Store.Partial resumes it.
func (p *Partial) Seal() error { return p.seal(syncData) }

// SealUnsynced is Seal without the fsync, for a partial that a CommitBatch
// will commit: its SyncData makes the data of the whole batch durable at
// once, before the renames.
func (p *Partial) SealUnsynced() error { return p.seal(leaveUnsynced) }

// Whether sealing makes a partial's data durable.
type sealSync int

const (
	syncData      sealSync = iota // fsync the file (Seal)
	leaveUnsynced                 // a CommitBatch's SyncData will (SealUnsynced)
)

func (p *Partial) seal(sync sealSync) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	case p.sealed:
		p.mu.Unlock()
		if sync == syncData {
			return p.syncSealed()
		}
		return nil
	case p.missing > 0:
		missing := p.missing
		p.mu.Unlock()
		return fmt.Errorf("%w: %q misses %d of %d pieces", ErrIncomplete, p.m.Path, missing, len(p.m.Pieces))
	}
	p.sealed = true
	p.mu.Unlock()
	p.flushMu.Lock()
	err := p.truncateAndClose(sync)
	p.flushMu.Unlock()
	if err != nil {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.s.forget(p)
		return fmt.Errorf("chunkstore: seal %q: %w", p.m.Path, err)
	}
	return nil
}

// syncSealed makes the data of a sealed partial durable (a no-op if it
// is): fsync by path, the file being closed.
func (p *Partial) syncSealed() error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	if p.synced {
		return nil
	}
	if err := syncPath(p.path); err != nil {
		return fmt.Errorf("chunkstore: sync %q: %w", p.m.Path, err)
	}
	p.synced = true
	return nil
}

// truncateAndClose cuts anything past the end (left by an older run),
// fsyncs (if sync is syncData) and closes the file. Called with flushMu held.
func (p *Partial) truncateAndClose(sync sealSync) error {
	p.fileDone = true
	// Truncating always updates the mtime, which the caller may have set:
	// only when needed, and the times are put back.
	fi, err := p.f.Stat()
	if err != nil {
		p.f.Close()
		return err
	}
	if fi.Size() != p.m.Size {
		if err := p.f.Truncate(p.m.Size); err != nil {
			p.f.Close()
			return err
		}
		if err := os.Chtimes(p.path, time.Time{}, fi.ModTime()); err != nil {
			p.f.Close()
			return err
		}
	}
	if sync == syncData {
		if err := p.f.Sync(); err != nil {
			p.f.Close()
			return err
		}
		p.synced = true
	}
	return p.f.Close()
}

// syncPath fsyncs the file at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Commit finishes a complete partial (else ErrIncomplete): Seal it (if not
// yet), rename it onto target (an absolute path on the same filesystem; the
// partial directory is under the folder's state directory by default) and
// make the rename durable (fsync target's directory, and the parents of
// directories not yet known durable). The file's pieces are then indexed as
// the complete file at target (when target is inside the folder) and the
// partial is forgotten. Set the mode and modification time on Path() before
// calling Commit. After a failed Commit the Partial is closed; Store.Partial
// resumes it. A CommitBatch commits many partials at a lower cost per file.
// A file at target is replaced: Commit is CommitTo(target, Replace).
func (p *Partial) Commit(target string) error { return p.CommitTo(target, Replace) }

// CommitTo is Commit with t saying whether a file at target may be
// replaced (New: the commit fails with ErrTargetExists if one appeared).
func (p *Partial) CommitTo(target string, t Target) error {
	if err := p.Seal(); err != nil {
		return err
	}
	if err := p.markClosed(); err != nil {
		return err
	}
	defer p.s.forget(p)
	if err := p.s.renameOrCopy(p.path, target, t); err != nil {
		return fmt.Errorf("chunkstore: commit %q to %s: %w", p.m.Path, target, err)
	}
	for dir, err := range p.s.dirs.syncDirs([]string{filepath.Dir(target)}) {
		p.s.log.Warn("chunkstore: fsync directory after rename", "dir", dir, "err", err)
	}
	p.flushMu.Lock()
	ref := p.ref
	p.flushMu.Unlock()
	p.s.committed.add(p.m.ID, len(p.m.Pieces)) // held.go
	if err := p.s.db.update(func(t *tx) error {
		files, err := lookupFiles(t, committedPaths(p.s.paths, []string{target}))
		if err != nil {
			return err
		}
		return recordCommitted(t, files, p.s.paths, &p.m, target, ref)
	}); err != nil {
		// The file is in place; only the index (a hint) is behind. A rescan
		// (AddFile) repairs it.
		p.s.log.Warn("chunkstore: committed file not indexed", "file", target, "err", err)
	}
	return nil
}

// recordCommitted forgets the partial of m and indexes its pieces as the
// complete file at target (if inside the folder), reusing its ref (0: the
// partial was never recorded).
// files holds the file records of target's path (lookupFiles).
func recordCommitted(t *tx, files fileRefs, paths layout, m *manifest.Manifest, target string, ref uint64) error {
	if err := t.del(partialKey(m.ID)); err != nil {
		return err
	}
	rel, inside := paths.relPath(target)
	if !inside || m.Size == 0 {
		if ref != 0 {
			return removeRef(t, ref)
		}
		return nil
	}
	if err := files.remove(t, rel); err != nil {
		return err
	}
	if ref == 0 {
		return files.put(t, t.newRef(), rel, m, freshRef)
	}
	return files.put(t, ref, rel, m, oldRef)
}

// committedPaths returns the folder-relative paths of the targets inside
// the folder.
func committedPaths(paths layout, targets []string) []string {
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		if rel, inside := paths.relPath(t); inside {
			out = append(out, rel)
		}
	}
	return out
}

// CopyLocal fills missing pieces from bytes the store already has elsewhere
// (other files, other partials), verified; it returns how many pieces and
// bytes it wrote. Pieces it cannot find locally stay missing.
func (p *Partial) CopyLocal(ctx context.Context) (pieces int, bytes int64, err error) {
	buf := make([]byte, p.m.PieceSize)
	for _, i := range p.Missing() {
		if err := ctx.Err(); err != nil {
			return pieces, bytes, err
		}
		if p.Have(i) { // filled as a duplicate of an earlier piece
			continue
		}
		data, err := p.s.ReadPiece(p.m.Pieces[i].Hash, buf)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return pieces, bytes, err
		}
		if err := p.WritePiece(i, data); err != nil {
			return pieces, bytes, err
		}
		pieces++
		bytes += int64(len(data))
	}
	return pieces, bytes, nil
}
