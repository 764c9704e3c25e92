package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the index file inside the state directory.
const FileName = "index.db"

// ErrCorrupt is wrapped by errors about records that cannot be decoded.
var ErrCorrupt = errors.New("index: corrupt record")

var (
	bucketFiles = []byte("files")
	bucketWants = []byte("wants")
	bucketMeta  = []byte("meta")
	keySeq      = []byte("seq")
	keyTracker  = []byte("tracker")
	keyEpoch    = []byte("epoch") // history.go
)

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

// Index is the open index. It is safe for concurrent use.
type Index struct {
	db *bolt.DB

	mu       sync.RWMutex
	files    map[string]Entry
	staged   []Entry   // in files already, not yet written; see Stage
	replaced []replace // versions the staged entries replaced, for History
	seq      uint64
	epoch    [16]byte
	// heard: Heard as stored; heardPending: noted by Hear, not yet written
	// (heard.go).
	heard, heardPending uint64
}

// Open opens (creating if needed) the index in stateDir.
func Open(stateDir string) (*Index, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	db, err := bolt.Open(filepath.Join(stateDir, FileName), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", stateDir, err)
	}
	x := &Index{db: db, files: make(map[string]Entry)}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketWants, bucketMeta, bucketHistory, bucketUnacked} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keySeq); len(v) == 8 {
			x.seq = binary.BigEndian.Uint64(v)
		}
		copy(x.epoch[:], tx.Bucket(bucketMeta).Get(keyEpoch))
		x.heard = loadHeard(tx.Bucket(bucketMeta))
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			x.files[string(k)] = e
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("index: load: %w", err)
	}
	return x, nil
}

// Close closes the index file.
func (x *Index) Close() error { return x.db.Close() }

// Get returns the entry for path.
func (x *Index) Get(path string) (Entry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, ok := x.files[path]
	return e, ok
}

// Paths returns every path with an entry, sorted.
func (x *Index) Paths() []string {
	x.mu.RLock()
	out := make([]string, 0, len(x.files))
	for p := range x.files {
		out = append(out, p)
	}
	x.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Len returns the number of entries.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.files)
}

// HasLive reports whether any entry is live (not a tombstone): whether the
// index holds files or directories whose absence would read as deletions.
func (x *Index) HasLive() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.files {
		if !e.Manifest.Deleted {
			return true
		}
	}
	return false
}

// Exists reports whether stateDir holds an index file, without creating
// anything (Open creates the directory and the file).
func Exists(stateDir string) (bool, error) {
	_, err := os.Stat(filepath.Join(stateDir, FileName))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return false, nil
	default:
		return false, fmt.Errorf("index: %w", err)
	}
}

// Seq returns the last tracker sequence number stored.
func (x *Index) Seq() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.seq
}

// Batch is one atomic set of index changes.
type Batch struct {
	Put        []Entry  // entries to store (by Manifest.Path)
	Delete     []string // paths whose entries are forgotten
	Wants      []Want   // wants to store (replacing any for the same path)
	DoneWants  []Done   // wants removed (if still the same version)
	Seq        uint64   // if non-zero and higher than the stored one, the new Seq
	Membership *Membership
	// Epoch, if set, replaces the tracker epoch Seq counts in (history.go);
	// with ResetSeq, Seq replaces the stored sequence number even if lower.
	Epoch    *[16]byte
	ResetSeq bool
	// Heard, with ResetSeq, is where the new epoch's Heard starts (at least
	// Seq); without, it only raises Heard (heard.go).
	Heard uint64
	// ClearWants forgets every stored want before Wants are stored.
	ClearWants bool
	// Reported are reports about to be sent (unacked.go); an entry in Put
	// (or staged) forgets its path's earlier ones first.
	Reported []Reported
}

// Stage records entries in memory at once (Get sees them) and queues them
// for the next Update or Flush, which writes them in one transaction. A crash
// before then loses only the record, never data: a staged file is one whose
// content the tracker already knows, so rescanning it reports nothing new.
func (x *Index) Stage(es ...Entry) {
	x.mu.Lock()
	for _, e := range es {
		x.replaced = x.noteReplaced(x.replaced, e)
		x.files[e.Manifest.Path] = e
	}
	x.staged = append(x.staged, es...)
	x.mu.Unlock()
}

// Flush writes the staged entries.
func (x *Index) Flush() error { return x.Update(Batch{}) }

// Update commits the staged entries and b in one transaction and then
// updates the in-memory view.
func (x *Index) Update(b Batch) error {
	x.mu.Lock()
	staged, replaced := x.staged, x.replaced
	x.staged, x.replaced = nil, nil
	pendingHeard := x.takeHeard()
	var heard uint64
	all := replaced
	for _, e := range b.Put {
		all = x.noteReplaced(all, e)
	}
	x.mu.Unlock()
	if len(staged) > 0 {
		b.Put = append(staged, b.Put...)
	}
	err := x.db.Update(func(tx *bolt.Tx) error {
		files, wants, meta := tx.Bucket(bucketFiles), tx.Bucket(bucketWants), tx.Bucket(bucketMeta)
		if err := writeUnacked(tx.Bucket(bucketUnacked), b.Put, b.Reported); err != nil {
			return err
		}
		if b.ClearWants {
			var err error
			if wants, err = clearBucket(tx, bucketWants); err != nil {
				return err
			}
		}
		if err := writeHistory(tx.Bucket(bucketHistory), all); err != nil {
			return err
		}
		for i := range b.Put {
			v, err := encodeEntry(&b.Put[i])
			if err != nil {
				return err
			}
			if err := files.Put([]byte(b.Put[i].Manifest.Path), v); err != nil {
				return err
			}
		}
		for _, p := range b.Delete {
			if err := files.Delete([]byte(p)); err != nil {
				return err
			}
		}
		for _, dw := range b.DoneWants {
			v := wants.Get([]byte(dw.Path))
			if v == nil {
				continue
			}
			if !dw.ID.IsZero() && len(v) >= manifest.IDSize && manifest.ID(v[:manifest.IDSize]) != dw.ID {
				continue // a newer version is wanted now
			}
			if dw.Before != 0 && len(v) >= manifest.IDSize+8 && binary.LittleEndian.Uint64(v[manifest.IDSize:]) >= dw.Before {
				continue // announced after the change that made it obsolete
			}
			if err := wants.Delete([]byte(dw.Path)); err != nil {
				return err
			}
		}
		for i := range b.Wants {
			v, err := encodeWant(&b.Wants[i])
			if err != nil {
				return err
			}
			if err := wants.Put([]byte(b.Wants[i].Manifest.Path), v); err != nil {
				return err
			}
		}
		if b.Epoch != nil {
			if err := meta.Put(keyEpoch, b.Epoch[:]); err != nil {
				return err
			}
		}
		if b.ResetSeq {
			if err := meta.Put(keySeq, binary.BigEndian.AppendUint64(nil, b.Seq)); err != nil {
				return err
			}
		} else if b.Seq > 0 {
			cur := uint64(0)
			if v := meta.Get(keySeq); len(v) == 8 {
				cur = binary.BigEndian.Uint64(v)
			}
			if b.Seq > cur {
				if err := meta.Put(keySeq, binary.BigEndian.AppendUint64(nil, b.Seq)); err != nil {
					return err
				}
			}
		}
		if b.Membership != nil {
			if err := meta.Put(keyTracker, encodeMembership(b.Membership)); err != nil {
				return err
			}
		}
		var err error
		heard, err = writeHeard(meta, &b, pendingHeard)
		return err
	})
	if err != nil {
		x.mu.Lock()
		x.staged = append(staged, x.staged...)
		x.replaced = append(replaced, x.replaced...)
		x.heardPending = max(x.heardPending, pendingHeard)
		x.mu.Unlock()
		return fmt.Errorf("index: update: %w", err)
	}
	x.mu.Lock()
	for _, e := range b.Put[len(staged):] {
		x.files[e.Manifest.Path] = e
	}
	for _, p := range b.Delete {
		delete(x.files, p)
	}
	if b.Seq > x.seq || b.ResetSeq {
		x.seq = b.Seq
	}
	if b.Epoch != nil {
		x.epoch = *b.Epoch
	}
	x.heard = heard
	x.mu.Unlock()
	return nil
}

// Membership returns the remembered tracker, if any.
func (x *Index) Membership() (Membership, bool, error) {
	var m Membership
	var ok bool
	err := x.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyTracker)
		if v == nil {
			return nil
		}
		var err error
		m, err = decodeMembership(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return Membership{}, false, fmt.Errorf("index: membership: %w", err)
	}
	return m, ok, nil
}
