package index

import (
	"fmt"
	"slices"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// Unacked reports (prefixUnacked, key the path, value the file IDs
// concatenated; metaUnacked counts the paths, so that storing an entry
// looks for its path's reports only when there are any): per path, the file IDs this peer reported to the tracker
// whose outcome it has not recorded yet, newest first (at most MaxUnacked).
// A report is written here, durably, before it is sent, and forgotten in
// the batch that stores the path's next entry (the outcome recorded, or a
// version applied there: an Update or a Stage). So after a crash between
// the tracker's commit and the peer's record, the next report of the path
// can tell the tracker "I put these versions here myself"
// (tracker.Change.Unacked), and the tracker does not mistake the device's
// next edit, or the same version sent again, for a concurrent edit of its
// own earlier version.

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
// none: the entry (an answer recorded, a version applied) forgot them.
func (x *Index) Unacked(paths []string) (map[string][]manifest.ID, error) {
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	out := map[string][]manifest.ID{}
	for _, p := range paths {
		v, _, err := kvstore.Get(x.db, pathKey(prefixUnacked, p))
		if err != nil {
			return nil, fmt.Errorf("index: unacked reports: %w", err)
		}
		ids, err := decodeUnacked(p, v)
		if err != nil {
			return nil, fmt.Errorf("index: unacked reports: %w", err)
		}
		if len(ids) > 0 {
			out[p] = ids
		}
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

// forgetReports deletes the unacked reports of path (its entry is being
// stored).
func (w *writer) forgetReports(path string) error {
	if w.x.unacked+w.unacked == 0 {
		return nil // nothing unacknowledged: the common case, no lookup
	}
	k := pathKey(prefixUnacked, path)
	if _, had, err := w.lookup(k); err != nil || !had {
		return err
	}
	w.unacked--
	return w.b.Delete(k, nil)
}

// report adds each of rs in front of its path's list.
func (w *writer) report(rs []Reported) error {
	for _, r := range rs {
		k := pathKey(prefixUnacked, r.Path)
		v, had, err := w.lookup(k)
		if err != nil {
			return err
		}
		if !had {
			w.unacked++
		}
		cur, err := decodeUnacked(r.Path, v)
		if err != nil {
			return err
		}
		cur = slices.DeleteFunc(cur, func(id manifest.ID) bool { return id == r.ID })
		next := append([]manifest.ID{r.ID}, cur...)
		nv := make([]byte, 0, MaxUnacked*manifest.IDSize)
		for _, id := range next[:min(len(next), MaxUnacked)] {
			nv = append(nv, id[:]...)
		}
		if err := w.b.Set(k, nv, nil); err != nil {
			return err
		}
	}
	return nil
}
