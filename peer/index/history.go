package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// MaxHistory is how many earlier file IDs the index keeps per path; the
// oldest is forgotten first.
const MaxHistory = 16

// bucketHistory holds, per path, the file IDs its entry held before the
// current one, repeats included (a path whose content comes back holds the
// same ID twice): key path NUL file ID counter, value the counter (8 bytes,
// big-endian) that orders them. Records written before repeats were kept
// have no counter in the key (one record per ID). Paths never contain NUL,
// so one path's keys are exactly those under its prefix.
var bucketHistory = []byte("history")

// replace is a file ID a path's entry held before a new one replaced it.
type replace struct {
	path string
	id   manifest.ID
}

// noteReplaced appends the file ID e replaces at its path, if e is another
// version than the entry there now. The caller holds x.mu.
func (x *Index) noteReplaced(list []replace, e Entry) []replace {
	prev, ok := x.files[e.Manifest.Path]
	if !ok || prev.Manifest.ID == e.Manifest.ID {
		return list
	}
	return append(list, replace{e.Manifest.Path, prev.Manifest.ID})
}

// writeHistory records rs and keeps the newest MaxHistory IDs per path.
func writeHistory(b *bolt.Bucket, rs []replace) error {
	for _, r := range rs {
		n, err := b.NextSequence()
		if err != nil {
			return err
		}
		prefix := historyPrefix(r.path)
		v := binary.BigEndian.AppendUint64(nil, n)
		if err := b.Put(append(append(slices.Clip(prefix), r.id[:]...), v...), v); err != nil {
			return err
		}
		count, oldestN := 0, uint64(0)
		var oldest []byte
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			count++
			if len(v) == 8 && (oldest == nil || binary.BigEndian.Uint64(v) < oldestN) {
				oldest, oldestN = slices.Clone(k), binary.BigEndian.Uint64(v)
			}
		}
		if count > MaxHistory {
			if err := b.Delete(oldest); err != nil {
				return err
			}
		}
	}
	return nil
}

func historyPrefix(path string) []byte { return append([]byte(path), 0) }

// History returns the file IDs path's entry held before its current one,
// newest first, repeats included (at most MaxHistory). A re-announce sends
// them, so the tracker can tell an older version of the path from a
// concurrent one, and order versions that came back (X, deleted, X again).
func (x *Index) History(path string) ([]manifest.ID, error) {
	type rec struct {
		id manifest.ID
		n  uint64
	}
	var rs []rec
	prefix := historyPrefix(path)
	err := x.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if n := len(k) - len(prefix); (n != manifest.IDSize && n != manifest.IDSize+8) || len(v) != 8 {
				return fmt.Errorf("%w: history record %q", ErrCorrupt, k)
			}
			rs = append(rs, rec{manifest.ID(k[len(prefix) : len(prefix)+manifest.IDSize]), binary.BigEndian.Uint64(v)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index: history of %q: %w", path, err)
	}
	slices.SortFunc(rs, func(a, b rec) int { return -cmpUint(a.n, b.n) })
	out := make([]manifest.ID, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Epoch returns the tracker epoch Seq counts in (zero if none: the peer
// has not finished a registration since it last re-announced, or never
// registered).
func (x *Index) Epoch() [16]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.epoch
}

// clearBucket empties the named bucket and returns it anew.
func clearBucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	if err := tx.DeleteBucket(name); err != nil {
		return nil, err
	}
	return tx.CreateBucket(name)
}
