package index

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// Unacked reports: per path, the file IDs this peer reported to the tracker
// whose outcome it has not recorded yet, newest first (at most MaxUnacked).
// A report is written here, durably, before it is sent, and forgotten in
// the transaction that stores the path's next entry (the outcome recorded,
// or a version applied there). So after a crash between the tracker's
// commit and the peer's record, the next report of the path can tell the
// tracker "I put these versions here myself" (tracker.Change.Unacked), and
// the tracker does not mistake the device's next edit, or the same version
// sent again, for a concurrent edit of its own earlier version. They are
// read from the file (a report is rare next to a lookup), not kept in memory.
var bucketUnacked = []byte("unacked")

// MaxUnacked bounds the unacknowledged reports kept per path (a path
// edited and killed over and over); the oldest is forgotten first.
const MaxUnacked = 8

// Reported is one report about to be sent: version ID of Path.
type Reported struct {
	Path string
	ID   manifest.ID
}

// Unacked returns, for each of paths that has any, the versions reported
// without a recorded outcome, newest first. A path with a staged entry has
// none: the entry (an answer recorded, a version applied) forgets them
// when it is written.
func (x *Index) Unacked(paths []string) (map[string][]manifest.ID, error) {
	x.mu.RLock()
	staged := make(map[string]bool, len(x.staged))
	for i := range x.staged {
		staged[x.staged[i].Manifest.Path] = true
	}
	x.mu.RUnlock()
	out := map[string][]manifest.ID{}
	err := x.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUnacked)
		for _, p := range paths {
			if staged[p] {
				continue
			}
			ids, err := decodeUnacked(p, b.Get([]byte(p)))
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				out[p] = ids
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index: unacked reports: %w", err)
	}
	return out, nil
}

func decodeUnacked(path string, v []byte) ([]manifest.ID, error) {
	if len(v)%manifest.IDSize != 0 {
		return nil, fmt.Errorf("%w: unacked reports of %q", ErrCorrupt, path)
	}
	var ids []manifest.ID
	for i := 0; i+manifest.IDSize <= len(v); i += manifest.IDSize {
		ids = append(ids, manifest.ID(v[i:i+manifest.IDSize]))
	}
	return ids, nil
}

// writeUnacked updates the bucket inside an index update that stores
// entries puts and reports rs: a stored entry forgets its path's reports,
// then each report is added in front of its path's list.
func writeUnacked(b *bolt.Bucket, puts []Entry, rs []Reported) error {
	if k, _ := b.Cursor().First(); k == nil && len(rs) == 0 {
		return nil // nothing unacknowledged: the common case
	}
	for i := range puts {
		k := []byte(puts[i].Manifest.Path)
		if b.Get(k) != nil {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, r := range rs {
		cur, err := decodeUnacked(r.Path, b.Get([]byte(r.Path)))
		if err != nil {
			return err
		}
		cur = slices.DeleteFunc(cur, func(id manifest.ID) bool { return id == r.ID })
		next := append([]manifest.ID{r.ID}, cur...)
		v := make([]byte, 0, MaxUnacked*manifest.IDSize)
		for _, id := range next[:min(len(next), MaxUnacked)] {
			v = append(v, id[:]...)
		}
		if err := b.Put([]byte(r.Path), v); err != nil {
			return err
		}
	}
	return nil
}
