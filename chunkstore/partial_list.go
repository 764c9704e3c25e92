package chunkstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// partialSeen is a partial record as read by partialRecords.
type partialSeen struct {
	raw      []byte // the record (a copy)
	ref      uint64 // 0 if the record is too short to name one
	progress int64  // Unix ns when pieces last became durable; 0: unknown
}

// partialRecords reads every partial record.
func (s *Store) partialRecords() (map[manifest.ID]partialSeen, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	out := make(map[manifest.ID]partialSeen)
	err := s.db.view(func(r pebble.Reader) error {
		it, err := prefixIter(r, []byte{prefixPartials})
		if err != nil {
			return err
		}
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			k, v := it.Key()[1:], it.Value()
			if len(k) != manifest.IDSize {
				continue
			}
			seen := partialSeen{raw: bytes.Clone(v)}
			if len(v) >= refKeyLen {
				seen.ref = beUint64(v)
				rv, found, err := kvstore.Get(r, refKey(seen.ref))
				if err != nil {
					return err
				}
				if found {
					if rec, err := decodeRef(rv); err == nil {
						if _, _, t, err := decodePartialRec(v, rec.pieceCount()); err == nil {
							seen.progress = t
						}
					}
				}
			}
			out[manifest.ID(k)] = seen
		}
		return it.Error()
	})
	if err != nil {
		return nil, fmt.Errorf("chunkstore: list partials: %w", err)
	}
	return out, nil
}

// listPartialFiles lists the files of the partial directory named <file ID>.part.
func listPartialFiles(partDir string) (map[manifest.ID]fs.FileInfo, error) {
	ents, err := os.ReadDir(partDir)
	if err != nil {
		return nil, fmt.Errorf("chunkstore: list partials: %w", err)
	}
	out := make(map[manifest.ID]fs.FileInfo)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".part")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		id, err := manifest.ParseID(name)
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // committed or discarded meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("chunkstore: list partials: %w", err)
		}
		out[id] = fi
	}
	return out, nil
}

// unionIDs returns the IDs of both maps, sorted.
func unionIDs[A, B any](a map[manifest.ID]A, b map[manifest.ID]B) []manifest.ID {
	ids := make([]manifest.ID, 0, len(a)+len(b))
	for id := range a {
		ids = append(ids, id)
	}
	for id := range b {
		if _, dup := a[id]; !dup {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(x, y manifest.ID) int { return bytes.Compare(x[:], y[:]) })
	return ids
}

// discard deletes the partial of id (file and records) unless it is open
// (ErrBusy) or check, if not nil, refuses its current record (nil: none);
// removed reports whether it did.
func (s *Store) discard(id manifest.ID, check func(rec []byte) bool) (removed bool, err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	if _, busy := s.partials[id]; busy {
		s.mu.Unlock()
		return false, fmt.Errorf("%w: %s", ErrBusy, id.Short())
	}
	// Reserve the ID so that no Partial opens it while it is deleted.
	s.partials[id] = nil
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.partials, id)
		s.mu.Unlock()
	}()
	err = s.db.update(func(t *tx) error {
		pk := partialKey(id)
		v, found, err := t.get(pk)
		if err != nil {
			return err
		}
		if !found {
			v = nil
		}
		removed = check == nil || check(v)
		switch {
		case !removed || v == nil:
			return nil
		case len(v) < refKeyLen:
			return t.del(pk)
		}
		if err := t.del(pk); err != nil {
			return err
		}
		return removeRef(t, beUint64(v))
	})
	if err != nil {
		return false, fmt.Errorf("chunkstore: discard partial %s: %w", id.Short(), err)
	}
	if !removed {
		return false, nil
	}
	if err := os.Remove(s.paths.partialPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("chunkstore: discard partial %s: %w", id.Short(), err)
	}
	return true, nil
}
