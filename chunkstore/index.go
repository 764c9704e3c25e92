package chunkstore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"

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
// previous record of that path) in one durable batch. Empty files have no
// pieces and are only un-indexed.
func (s *Store) AddFile(m *manifest.Manifest) error {
	return s.AddFiles([]*manifest.Manifest{m})
}

// addBatchWeight bounds one batch of AddFiles: files plus pieces.
const addBatchWeight = 1 << 13

// AddFiles is AddFile for many files, in durable batches of up to
// addBatchWeight files and pieces (one fsync for a scan's worth of small
// files, and memory bounded whatever the length of ms). The manifests are
// all checked first; after a failed batch the earlier ones stay recorded
// (a rescan records them again).
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
	for len(ms) > 0 {
		n, weight := 0, 0
		for n < len(ms) && (n == 0 || weight+1+len(ms[n].Pieces) <= addBatchWeight) {
			weight += 1 + len(ms[n].Pieces)
			n++
		}
		if err := s.addFiles(ms[:n]); err != nil {
			return fmt.Errorf("chunkstore: add files: %w", err)
		}
		ms = ms[n:]
	}
	return nil
}

// addFiles records ms in one batch.
func (s *Store) addFiles(ms []*manifest.Manifest) error {
	paths := make([]string, len(ms))
	for i, m := range ms {
		paths[i] = m.Path
	}
	return s.db.update(func(t *tx) error {
		files, err := lookupFiles(t, paths)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if err := files.remove(t, m.Path); err != nil {
				return err
			}
			if m.Size == 0 {
				continue
			}
			if err := files.put(t, t.newRef(), m.Path, m, freshRef); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveFile forgets the complete file at the folder-relative path. Removing
// a path that is not indexed is not an error.
func (s *Store) RemoveFile(path string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.db.update(func(t *tx) error { return removePath(t, path) }); err != nil {
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

// locations reads the recorded locations of h: an iterator, then the ref
// record of each; not one snapshot, which costs more than the lookup. A
// ref is never reused, and its record changes only from a partial to the
// file it was committed as (the same bytes), so reading it a moment after
// the iterator yields what a snapshot would, or newer.
func (s *Store) locations(h manifest.ID) ([]refLoc, error) {
	var out []refLoc
	err := func(r pebble.Reader) error {
		it, err := prefixIter(r, append([]byte{prefixPieces}, h[:hashPrefixLen]...))
		if err != nil {
			return err
		}
		defer it.Close()
		for ok := it.First(); ok && len(out) < maxLocations; ok = it.Next() {
			kh, ref, valid := parsePieceKey(it.Key())
			if !valid || kh != h {
				continue // another hash with the same prefix
			}
			off, n, err := decodeLoc(it.Value())
			if err != nil {
				return err
			}
			rv, found, err := kvstore.Get(r, refKey(ref))
			if err != nil {
				return err
			}
			if !found {
				continue // dangling; cleaned up when its ref is removed
			}
			rec, err := decodeRef(rv)
			if err != nil {
				return err
			}
			l := refLoc{Location: Location{Path: s.paths.refPath(&rec), Offset: off, Length: n}, ref: ref}
			if rec.stamped() {
				l.size, l.mtime, l.stamped = rec.size, rec.mtime, true
			}
			out = append(out, l)
		}
		return it.Error()
	}(s.db)
	return out, err
}

// dropLocation deletes the location of h in ref if ref still resolves to the
// path that was read; changed reports that it did not (e.g. a partial was
// committed meanwhile) so the caller should look again.
func (s *Store) dropLocation(h manifest.ID, l refLoc) (changed bool, err error) {
	err = s.db.update(func(t *tx) error {
		changed = false
		key := pieceKey(h, l.ref)
		v, ok, err := t.get(key)
		if err != nil || !ok {
			return err
		}
		rv, ok, err := t.get(refKey(l.ref))
		if err != nil {
			return err
		}
		if ok {
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
		return t.del(key)
	})
	return changed, err
}

// removePath removes the file record of the folder-relative path, if any.
func removePath(t *tx, path string) error {
	files, err := lookupFiles(t, []string{path})
	if err != nil {
		return err
	}
	return files.remove(t, path)
}

// removeRef deletes a ref record and every location it has.
func removeRef(t *tx, ref uint64) error {
	rk := refKey(ref)
	rv, ok, err := t.get(rk)
	if err != nil || !ok {
		return err
	}
	rec, err := decodeRef(rv)
	if err != nil {
		return err
	}
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPieces}, UpperBound: []byte{prefixPieces + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for _, p := range rec.distinctPrefixes() {
		prefix := pieceRefPrefix(p, ref)
		for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
			if err := t.del(it.Key()); err != nil {
				return err
			}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	return t.del(rk)
}

// Whether putPieces must look for a piece's existing location.
type refAge int

const (
	freshRef refAge = iota // allocated in this batch: nothing recorded yet
	oldRef                 // may have locations already
)

// putPieces records the location of every piece of m in ref (only the pieces
// with which(i) true if which is non-nil). A hash that occurs several times
// in the file is recorded at its first such piece.
func putPieces(t *tx, ref uint64, m *manifest.Manifest, which func(int) bool, age refAge) error {
	var seen map[manifest.ID]bool // hashes put by this call, for a fresh ref of several pieces
	for i := range m.Pieces {
		if which != nil && !which(i) {
			continue
		}
		h := m.Pieces[i].Hash
		k := pieceKey(h, ref)
		switch {
		case age == oldRef:
			if _, ok, err := t.get(k); err != nil {
				return err
			} else if ok {
				continue
			}
		case len(m.Pieces) > 1:
			if seen[h] {
				continue
			}
			if seen == nil {
				seen = make(map[manifest.ID]bool)
			}
			seen[h] = true
		}
		if err := t.put(k, encodeLoc(m.PieceOffset(i), m.PieceLen(i))); err != nil {
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
