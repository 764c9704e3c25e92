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
// resumes it (its pieces are re-hashed and adopted: the record may already
// be gone, as the index update runs beside the fsync and rename, and the
// index may name target as their location, a hint that the first read
// there drops).
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
	// The index update (forget the partial, index the pieces at target) runs
	// while the file is made durable and renamed: the database's fsyncs then
	// overlap the file's instead of following them, which is most of the cost
	// of committing a small file. Locations are hints checked by hash, so an
	// index that briefly names target before the rename (or after a failed
	// one) is harmless: a read there finds other bytes and drops the hint. A
	// failed Commit leaves the partial file unrecorded; Store.Partial adopts
	// its verified pieces again (see resume).
	rel, inside := p.s.relPath(target)
	ref := p.ref
	indexed := make(chan error, 1)
	go func() {
		indexed <- p.s.update(func(tx *bolt.Tx) error {
			return p.indexCommitted(tx, ref, rel, inside)
		})
	}()
	err = p.syncAndRename(target)
	ierr := <-indexed
	if err != nil {
		return fail(err)
	}
	if ierr != nil {
		// The file is in place; only the index (a hint) is behind. A rescan
		// (AddFile) repairs it.
		p.s.log.Warn("chunkstore: committed file not indexed", "file", target, "err", ierr)
	}
	return nil
}

// syncAndRename makes the partial file durable, closes it, renames it onto
// target and makes the rename durable (fsync of target's directory).
// Concurrent commits fsync concurrently: the filesystem's journal batches
// them (serializing directory fsyncs in here measured slower).
func (p *Partial) syncAndRename(target string) error {
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	if err := p.s.renameOrCopy(p.path, target); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		p.s.log.Warn("chunkstore: fsync directory after rename", "dir", filepath.Dir(target), "err", err)
	}
	return nil
}

// indexCommitted forgets the partial record and, for a non-empty file
// inside the folder, indexes its pieces at rel (reusing the partial's ref
// when it has one).
func (p *Partial) indexCommitted(tx *bolt.Tx, ref uint64, rel string, inside bool) error {
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
	return putPieces(tx, r, &p.m, nil)
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
