package chunkstore

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// Location is where the bytes of a piece were when they were recorded.
type Location struct {
	Path   string // absolute
	Offset int64
	Length int64
}

// maxLocations bounds how many locations of one hash are considered per read.
const maxLocations = 8

// AddFile indexes the pieces of the complete file root/m.Path (replacing any
// previous record of that path) in one transaction. Empty files have no
// pieces and are only un-indexed.
func (s *Store) AddFile(m *manifest.Manifest) error {
	return s.AddFiles([]*manifest.Manifest{m})
}

// AddFiles is AddFile for many files in one transaction (one fsync for a
// whole scan's worth of small files).
func (s *Store) AddFiles(ms []*manifest.Manifest) error {
	for _, m := range ms {
		if err := checkFileManifest(m); err != nil {
			return err
		}
		if err := manifest.ValidatePath(m.Path); err != nil {
			return fmt.Errorf("%w: %w", ErrBadManifest, err)
		}
	}
	if err := s.checkOpen(); err != nil {
		return err
	}
	err := s.db.update(func(tx *bolt.Tx) error {
		for _, m := range ms {
			if err := removePath(tx, m.Path); err != nil {
				return err
			}
			if m.Size == 0 {
				continue
			}
			ref, err := tx.Bucket(bucketRefs).NextSequence()
			if err != nil {
				return err
			}
			rec := refRec{kind: kindFile, name: []byte(m.Path), size: m.Size, pieceSize: m.PieceSize, hashes: hashesOf(m)}
			if err := tx.Bucket(bucketRefs).Put(refKey(ref), encodeRef(rec)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketFiles).Put([]byte(m.Path), refKey(ref)); err != nil {
				return err
			}
			if err := putPieces(tx, ref, m, nil); err != nil {
				return err
			}
			if err := putStamp(tx, ref, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chunkstore: add files: %w", err)
	}
	return nil
}

// RemoveFile forgets the complete file at the folder-relative path. Removing
// a path that is not indexed is not an error.
func (s *Store) RemoveFile(path string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.db.update(func(tx *bolt.Tx) error { return removePath(tx, path) }); err != nil {
		return fmt.Errorf("chunkstore: remove %q: %w", path, err)
	}
	return nil
}

// Locate returns one recorded location of piece h (unverified: ReadPiece
// verifies).
func (s *Store) Locate(h manifest.ID) (Location, bool) {
	locs, err := s.locations(h)
	if err != nil || len(locs) == 0 {
		return Location{}, false
	}
	return locs[0].Location, true
}

// ReadPiece reads the bytes of piece h from a recorded location into buf
// (reallocated if too small), verifies their BLAKE3 hash and returns them.
// A location whose bytes no longer match is dropped and the next is tried.
// ErrNotFound if no location holds the piece.
func (s *Store) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	return s.readPiece(h, buf, alwaysHash)
}

// ReadPieceForUpload is ReadPiece for a reader that verifies the hash
// itself (the uploader: every requester checks each piece it receives). It
// skips the hash when the location is in a complete file that still has the
// size and modification time it had when its pieces were hashed (AddFile,
// Commit): the same rule the folder scan uses to call a file unchanged. A
// file rewritten in place with its old modification time is the one case it
// serves wrong bytes, which the requester rejects.
func (s *Store) ReadPieceForUpload(h manifest.ID, buf []byte) ([]byte, error) {
	return s.readPiece(h, buf, trustStamps)
}

// When readPiece hashes the bytes it reads.
type hashCheck int

const (
	alwaysHash  hashCheck = iota // every read is verified (ReadPiece)
	trustStamps                  // not in a file whose stamp still holds (ReadPieceForUpload)
)

func (s *Store) readPiece(h manifest.ID, buf []byte, check hashCheck) ([]byte, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var ioErr error
	for pass := 0; pass < 3; pass++ {
		locs, err := s.locations(h)
		if err != nil {
			return nil, fmt.Errorf("chunkstore: read piece %s: %w", h.Short(), err)
		}
		if len(locs) == 0 {
			break
		}
		retry := false
		for _, l := range locs {
			data, stale, err := readLoc(l, h, buf, check == trustStamps && l.stamped)
			if err == nil {
				return data, nil
			}
			if !stale {
				ioErr = err
				continue
			}
			s.log.Debug("chunkstore: dropping stale location", "piece", h.Short(), "path", l.Path, "offset", l.Offset, "err", err)
			changed, derr := s.dropLocation(h, l)
			if derr != nil {
				return nil, fmt.Errorf("chunkstore: read piece %s: %w", h.Short(), derr)
			}
			retry = retry || changed
		}
		if !retry {
			break
		}
	}
	if ioErr != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, h.Short(), ioErr)
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, h.Short())
}

type refLoc struct {
	Location
	ref uint64
	// stamped: the file had size and mtime (nanoseconds) when its pieces
	// were hashed (complete files only).
	stamped     bool
	size, mtime int64
}

func (s *Store) locations(h manifest.ID) ([]refLoc, error) {
	var out []refLoc
	err := s.db.View(func(tx *bolt.Tx) error {
		refs, stamps := tx.Bucket(bucketRefs), tx.Bucket(bucketStamps)
		c := tx.Bucket(bucketPieces).Cursor()
		for k, v := c.Seek(h[:]); k != nil && len(out) < maxLocations; k, v = c.Next() {
			if len(k) != manifest.IDSize+refKeyLen || manifest.ID(k[:manifest.IDSize]) != h {
				break
			}
			off, n, err := decodeLoc(v)
			if err != nil {
				return err
			}
			rv := refs.Get(k[manifest.IDSize:])
			if rv == nil {
				continue // dangling; cleaned up when its ref is removed
			}
			rec, err := decodeRef(rv)
			if err != nil {
				return err
			}
			l := refLoc{
				Location: Location{Path: s.paths.refPath(&rec), Offset: off, Length: n},
				ref:      beUint64(k[manifest.IDSize:]),
			}
			if rec.kind == kindFile {
				l.size, l.mtime, l.stamped = decodeStamp(stamps.Get(k[manifest.IDSize:]))
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// dropLocation deletes the location of h in ref if ref still resolves to the
// path that was read; changed reports that it did not (e.g. a partial was
// committed meanwhile) so the caller should look again.
func (s *Store) dropLocation(h manifest.ID, l refLoc) (changed bool, err error) {
	err = s.db.update(func(tx *bolt.Tx) error {
		changed = false
		key := pieceKey(h, l.ref)
		v := tx.Bucket(bucketPieces).Get(key)
		if v == nil {
			return nil
		}
		rv := tx.Bucket(bucketRefs).Get(refKey(l.ref))
		if rv != nil {
			rec, err := decodeRef(rv)
			if err != nil {
				return err
			}
			off, n, err := decodeLoc(v)
			if err != nil {
				return err
			}
			if s.paths.refPath(&rec) != l.Path || off != l.Offset || n != l.Length {
				changed = true
				return nil
			}
		}
		return tx.Bucket(bucketPieces).Delete(key)
	})
	return changed, err
}

// removePath removes the file record of the folder-relative path, if any.
func removePath(tx *bolt.Tx, path string) error {
	files := tx.Bucket(bucketFiles)
	v := files.Get([]byte(path))
	if v == nil {
		return nil
	}
	if len(v) != refKeyLen {
		return fmt.Errorf("corrupt file record for %q", path)
	}
	ref := beUint64(v)
	if err := files.Delete([]byte(path)); err != nil {
		return err
	}
	return removeRef(tx, ref)
}

// removeRef deletes a ref record and every location it has.
func removeRef(tx *bolt.Tx, ref uint64) error {
	refs, pieces := tx.Bucket(bucketRefs), tx.Bucket(bucketPieces)
	rk := refKey(ref)
	rv := refs.Get(rk)
	if rv == nil {
		return nil
	}
	rec, err := decodeRef(rv)
	if err != nil {
		return err
	}
	// Copy the hashes: deleting keys may invalidate rv's memory.
	hashes := append([]byte(nil), rec.hashes...)
	for i := 0; i+manifest.IDSize <= len(hashes); i += manifest.IDSize {
		if err := pieces.Delete(pieceKey(manifest.ID(hashes[i:i+manifest.IDSize]), ref)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketStamps).Delete(rk); err != nil {
		return err
	}
	return refs.Delete(rk)
}

// putStamp records the size and modification time m gives for the file of
// ref: while the file still has both, ReadPieceForUpload trusts its bytes.
// A manifest without a modification time records none.
func putStamp(tx *bolt.Tx, ref uint64, m *manifest.Manifest) error {
	if m.ModTime == 0 {
		return tx.Bucket(bucketStamps).Delete(refKey(ref))
	}
	return tx.Bucket(bucketStamps).Put(refKey(ref), encodeStamp(m.Size, m.ModTime))
}

// putPieces records the location of every piece of m in ref (only the pieces
// with which(i) true if which is non-nil). A hash that occurs several times
// in the file is recorded at its first such piece.
func putPieces(tx *bolt.Tx, ref uint64, m *manifest.Manifest, which func(int) bool) error {
	b := tx.Bucket(bucketPieces)
	for i := range m.Pieces {
		if which != nil && !which(i) {
			continue
		}
		k := pieceKey(m.Pieces[i].Hash, ref)
		if b.Get(k) != nil {
			continue
		}
		if err := b.Put(k, encodeLoc(m.PieceOffset(i), m.PieceLen(i))); err != nil {
			return err
		}
	}
	return nil
}

// checkFileManifest checks that m describes a live regular file with a
// consistent piece list and file ID (manifest.ValidateFile).
func checkFileManifest(m *manifest.Manifest) error {
	if m == nil {
		return fmt.Errorf("%w: nil", ErrBadManifest)
	}
	if err := m.ValidateFile(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	return nil
}

func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

var errShort = errors.New("short read")
