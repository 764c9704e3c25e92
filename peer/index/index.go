package index

import (
	"errors"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// ErrCorrupt is wrapped by errors about records that cannot be decoded.
var ErrCorrupt = errors.New("index: corrupt record")

// Entry is the last synced version of one path, with the disk state that
// proves the file unchanged since it was synced (scan.Stat: a Ctime of 0 is
// unknown, and never matches a file on a platform that has one).
type Entry struct {
	Manifest manifest.Manifest
	Stat     scan.Stat
}

// Done names a want to forget: the want for Path, only if it still is for
// version ID (a zero ID: any version) and, if Before is non-zero, only if
// its sequence number is lower than Before.
type Done struct {
	Path   string
	ID     manifest.ID
	Before uint64
}

// Membership is what the peer remembers about the tracker it joined.
type Membership struct {
	Addr      string
	Tracker   identity.DeviceID
	PieceSize int64
}

// Get returns the entry for path (a point read of the store; staged
// entries are in it).
func (x *Index) Get(path string) (Entry, bool) {
	if !x.guard.enter() {
		return Entry{}, false
	}
	defer x.guard.exit()
	e, ok, err := getEntry(x.db, path)
	if err != nil {
		return Entry{}, false
	}
	return e, ok
}

// getEntry reads the entry of path from r (the store or an indexed batch).
func getEntry(r pebble.Reader, path string) (Entry, bool, error) {
	v, closer, err := r.Get(pathKey(prefixFiles, path))
	if errors.Is(err, pebble.ErrNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("index: get %q: %w", path, err)
	}
	defer closer.Close()
	e, err := decodeRecord(path, v)
	if err != nil {
		return Entry{}, false, fmt.Errorf("index: %w", err)
	}
	return e, true, nil
}

// Paths returns every path with an entry, sorted (string order).
//
// Deprecated: it holds every path in memory; walk the index with Page.
func (x *Index) Paths() []string {
	if !x.guard.enter() {
		return nil
	}
	defer x.guard.exit()
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixFiles}, UpperBound: keyUpper(prefixFiles)})
	if err != nil {
		return nil
	}
	defer it.Close()
	out := make([]string, 0, x.Len())
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, keyPath(it.Key()))
	}
	sort.Strings(out)
	return out
}

// Len returns the number of entries (a counter kept with them).
func (x *Index) Len() int { return int(x.count.Load()) }

// HasLive reports whether any entry is live (not a tombstone): whether the
// index holds files or directories whose absence would read as deletions.
// It is a counter kept with the entries.
func (x *Index) HasLive() bool { return x.live.Load() > 0 }

// Seq returns the last tracker sequence number stored.
func (x *Index) Seq() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.seq
}

// Membership returns the remembered tracker, if any.
func (x *Index) Membership() (Membership, bool, error) {
	if !x.guard.enter() {
		return Membership{}, false, ErrClosed
	}
	defer x.guard.exit()
	v, ok, err := kvstore.Get(x.db, metaTracker)
	if err == nil && ok {
		var m Membership
		if m, err = decodeMembership(v); err == nil {
			return m, true, nil
		}
	}
	if err != nil {
		return Membership{}, false, fmt.Errorf("index: membership: %w", err)
	}
	return Membership{}, false, nil
}
