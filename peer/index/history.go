package index

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// MaxHistory is how many earlier file IDs the index keeps per path; the
// oldest is forgotten first.
const MaxHistory = 16

// History records (prefixHistory): per path, the file IDs its entry held
// before the current one, repeats included (a path whose content comes
// back holds the same ID twice): key historyKey(path, counter), value the
// file ID. The counter (metaHistSeq, one for the whole index) orders them.

// History returns the file IDs path's entry held before its current one,
// newest first, repeats included (at most MaxHistory). A re-announce sends
// them, so the tracker can tell an older version of the path from a
// concurrent one, and order versions that came back (X, deleted, X again).
func (x *Index) History(path string) ([]manifest.ID, error) {
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	prefix := historyPrefix(path)
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: kvstore.PrefixEnd(prefix)})
	if err != nil {
		return nil, fmt.Errorf("index: history of %q: %w", path, err)
	}
	var out []manifest.ID
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Key()) != len(prefix)+8 || len(it.Value()) != manifest.IDSize {
			it.Close()
			return nil, fmt.Errorf("index: history of %q: %w: record %q", path, ErrCorrupt, it.Key())
		}
		out = append(out, manifest.ID(it.Value()))
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("index: history of %q: %w", path, err)
	}
	slices.Reverse(out) // newest (highest counter) first
	return out, nil
}

// Epoch returns the tracker epoch Seq counts in (zero if none: the peer
// has not finished a registration since it last re-announced, or never
// registered).
func (x *Index) Epoch() [16]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.epoch
}
