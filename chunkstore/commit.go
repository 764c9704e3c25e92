package chunkstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Commit finishes a complete partial (else ErrIncomplete): truncate to the
// file's size, fsync, rename onto target (an absolute path on the same
// filesystem; the partial directory is under the folder's state directory by
// default) and fsync target's directory. The file's pieces are then indexed
// as the complete file at target (when target is inside the folder) and the
// partial is forgotten. Set the mode and modification time on Path() before
// calling Commit. After a failed Commit the Partial is closed; Store.Partial
// resumes it.
func (p *Partial) Commit(target string) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrClosed
	case p.missing > 0:
		missing := p.missing
		p.mu.Unlock()
		return fmt.Errorf("%w: %q misses %d of %d pieces", ErrIncomplete, p.m.Path, missing, len(p.m.Pieces))
	}
	p.closed = true
	p.mu.Unlock()
	defer p.s.forget(p)
	p.flushMu.Lock()
	defer p.flushMu.Unlock()

	fail := func(err error) error {
		return fmt.Errorf("chunkstore: commit %q to %s: %w", p.m.Path, target, err)
	}
	// Cut anything past the end (left by an older run). Truncating always
	// updates the mtime, which the caller may have set: only when needed,
	// and the times are put back.
	fi, err := p.f.Stat()
	if err != nil {
		p.f.Close()
		return fail(err)
	}
	if fi.Size() != p.m.Size {
		if err := p.f.Truncate(p.m.Size); err != nil {
			p.f.Close()
			return fail(err)
		}
		if err := os.Chtimes(p.path, time.Time{}, fi.ModTime()); err != nil {
			p.f.Close()
			return fail(err)
		}
	}
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return fail(err)
	}
	if err := p.f.Close(); err != nil {
		return fail(err)
	}
	if err := p.s.renameOrCopy(p.path, target); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		p.s.log.Warn("chunkstore: fsync directory after rename", "dir", filepath.Dir(target), "err", err)
	}

	rel, inside := p.s.relPath(target)
	ref := p.ref
	err = p.s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketPartials).Delete(p.m.ID[:]); err != nil {
			return err
		}
		if !inside || p.m.Size == 0 {
			if ref != 0 {
				return removeRef(tx, ref)
			}
			return nil
		}
		if err := removePath(tx, rel); err != nil {
			return err
		}
		r := ref
		if r == 0 {
			var err error
			if r, err = tx.Bucket(bucketRefs).NextSequence(); err != nil {
				return err
			}
		}
		rec := refRec{kind: kindFile, name: []byte(rel), size: p.m.Size, pieceSize: p.m.PieceSize, hashes: hashesOf(&p.m)}
		if err := tx.Bucket(bucketRefs).Put(refKey(r), encodeRef(rec)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketFiles).Put([]byte(rel), refKey(r)); err != nil {
			return err
		}
		if err := putPieces(tx, r, &p.m, nil); err != nil {
			return err
		}
		return putStamp(tx, r, &p.m)
	})
	if err != nil {
		// The file is in place; only the index (a hint) is behind. A rescan
		// (AddFile) repairs it.
		p.s.log.Warn("chunkstore: committed file not indexed", "file", target, "err", err)
	}
	return nil
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
