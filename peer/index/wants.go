package index

import (
	"fmt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	bolt "go.etcd.io/bbolt"
)

// Want is an announced version not yet applied, with its owners.
//
// Wants lists them without their piece lists (a head: Manifest.Pieces is
// nil, Pieces says how many there are), so listing every want costs memory
// for its path and IDs only, whatever sizes the tracker announced; Want
// decodes one whole. A want is whole when Manifest.Pieces has Pieces
// entries (always, for directories, tombstones and empty files).
type Want struct {
	Manifest manifest.Manifest
	Owners   []identity.DeviceID
	Seq      uint64
	Pieces   int // piece count of Manifest (0 for a want built whole: see Whole)
}

// Whole reports whether w's manifest has its piece list.
func (w *Want) Whole() bool { return len(w.Manifest.Pieces) == w.Pieces || w.Pieces == 0 }

// Wants returns every stored want, sorted by path, as heads: without
// piece lists (see Want; Want(path) decodes one whole).
func (x *Index) Wants() ([]Want, error) {
	var out []Want
	err := x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWants).ForEach(func(k, v []byte) error {
			w, err := decodeWantHead(v)
			if err != nil {
				return fmt.Errorf("want %s: %w", k, err)
			}
			out = append(out, w)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("index: wants: %w", err)
	}
	return out, nil
}

// Want returns the stored want for path, whole (with its piece list), if
// it still is for version id: the one want a pull handles at a time.
func (x *Index) Want(path string, id manifest.ID) (Want, bool, error) {
	var w Want
	var ok bool
	err := x.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketWants).Get([]byte(path))
		if len(v) < manifest.IDSize || manifest.ID(v[:manifest.IDSize]) != id {
			return nil
		}
		var err error
		w, err = decodeWant(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return Want{}, false, fmt.Errorf("index: want %q: %w", path, err)
	}
	return w, ok, nil
}

// WantID returns the file ID of the stored want for path, if any.
func (x *Index) WantID(path string) (manifest.ID, bool) {
	var id manifest.ID
	var ok bool
	_ = x.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketWants).Get([]byte(path)); len(v) >= manifest.IDSize {
			id, ok = manifest.ID(v[:manifest.IDSize]), true
		}
		return nil
	})
	return id, ok
}
