package chunkstore

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// Partials lists the file IDs of every partial download the store knows of:
// recorded in the database or present as a file in the partial directory
// (open or not), sorted. Use it with DiscardPartial to drop downloads of
// versions that are no longer wanted.
func (s *Store) Partials() ([]manifest.ID, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	seen := map[manifest.ID]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPartials).ForEach(func(k, _ []byte) error {
			if len(k) == manifest.IDSize {
				seen[manifest.ID(k)] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("chunkstore: list partials: %w", err)
	}
	ents, err := os.ReadDir(s.partDir)
	if err != nil {
		return nil, fmt.Errorf("chunkstore: list partials: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".part")
		if !ok {
			continue
		}
		if id, err := manifest.ParseID(name); err == nil {
			seen[id] = true
		}
	}
	ids := make([]manifest.ID, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b manifest.ID) int { return strings.Compare(string(a[:]), string(b[:])) })
	return ids, nil
}

// DiscardPartial deletes the partial download of file ID id (its file and
// records) without opening it; ErrBusy if it is open. Discarding an unknown
// ID is not an error.
func (s *Store) DiscardPartial(id manifest.ID) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if _, busy := s.partials[id]; busy {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrBusy, id.Short())
	}
	// Reserve the ID so that no Partial opens it while it is deleted.
	s.partials[id] = nil
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.partials, id)
		s.mu.Unlock()
	}()
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPartials)
		v := b.Get(id[:])
		if v == nil {
			return nil
		}
		if len(v) < refKeyLen {
			return b.Delete(id[:])
		}
		ref := beUint64(v)
		if err := b.Delete(id[:]); err != nil {
			return err
		}
		return removeRef(tx, ref)
	})
	if err != nil {
		return fmt.Errorf("chunkstore: discard partial %s: %w", id.Short(), err)
	}
	if err := os.Remove(s.partialPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("chunkstore: discard partial %s: %w", id.Short(), err)
	}
	return nil
}
