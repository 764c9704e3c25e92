package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
)

// DirName is the directory of the index store inside the state directory;
// LegacyFileName the bbolt file of older versions, migrated by Open.
const (
	DirName        = "index"
	LegacyFileName = "index.db"
)

// ErrLocked: the index is open in another process (or another Open in this
// one) and stayed so for lockWait.
var ErrLocked = errors.New("index: in use by another process")

// lockWait is how long Open waits for an index in use (bbolt's timeout
// before): a peer restarted at once may find its predecessor closing.
const lockWait = 2 * time.Second

// ErrClosed: the index was closed.
var ErrClosed = errors.New("index: closed")

// Index is the open index. It is safe for concurrent use.
type Index struct {
	db    *pebble.DB
	room  func() error // kvstore.Store.Room: before every commit
	guard guard        // every use of db, against Close

	// wmu serializes the writers (Stage and Update) around building and
	// committing their batch: Pebble has no read-modify-write transactions,
	// and the counters, history, unacked reports, conditional want deletes
	// and the Seq/Heard rules read what they change (bbolt serialized its
	// writers the same way). Readers never take it.
	wmu      sync.Mutex
	histSeq  uint64 // last history counter; wmu
	stageErr error  // the first failed Stage write, returned by the next Update; wmu
	unsynced bool   // a Stage wrote since the last synced commit; wmu
	unacked  int64  // paths with unacked reports (metaUnacked); wmu

	// Counters mirrored from metaCount (written in every batch that
	// changes them), read without a lock.
	count, live atomic.Int64

	mu    sync.RWMutex // the fields below; never held across I/O
	seq   uint64
	epoch [16]byte
	// heard: Heard as stored; heardPending: noted by Hear, not yet written
	// by an Update (heard.go).
	heard, heardPending uint64
}

// OwnCacheSize is the block cache of an index opened with Open. Pebble
// charges its memtables to the block cache (kvstore: up to two of
// MemTableSize), so a cache must be larger than that to hold any block:
// a 4 MiB cache with two 2 MiB memtables caches nothing, and every Get
// then reads its blocks from the file (about 30 times slower).
//
// MemTableSize is the memtable size Open uses: Pebble preallocates each
// write-ahead log to 110% of it, so it is also the store's smallest size
// on disk (a 2 MiB memtable cost 2.2 MiB on a 4 MiB disk).
const (
	OwnCacheSize = 8 << 20
	MemTableSize = 1 << 20
)

// Open opens (creating if needed) the index in stateDir, with a block
// cache of its own (OwnCacheSize). An older bbolt index there is migrated
// first.
func Open(stateDir string) (*Index, error) {
	c := kvstore.NewCache(OwnCacheSize)
	defer c.Unref() // the store holds its own reference
	return OpenWith(stateDir, kvstore.Options{Cache: c, MemTableSize: MemTableSize})
}

// OpenWith is Open with store options: a peer shares one block cache
// (o.Cache) between its index and its chunk store. The cache must exceed
// the memtables of every store sharing it (see OwnCacheSize).
func OpenWith(stateDir string, o kvstore.Options) (*Index, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	db, err := openStore(filepath.Join(stateDir, DirName), o)
	if err != nil {
		return nil, err
	}
	x := &Index{db: db.DB, room: db.Room}
	if err := migrate(db, stateDir); err != nil {
		db.Close()
		return nil, err
	}
	if err := x.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("index: open %s: %w", stateDir, err)
	}
	return x, nil
}

// openStore opens the store, waiting up to lockWait for one in use.
func openStore(dir string, o kvstore.Options) (*kvstore.Store, error) {
	deadline := time.Now().Add(lockWait)
	for {
		db, err := kvstore.Open(dir, o)
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, kvstore.ErrLocked) {
			return nil, fmt.Errorf("index: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s (%w)", ErrLocked, dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// load reads the meta records into x.
func (x *Index) load() error {
	get := func(k []byte) ([]byte, error) {
		v, _, err := kvstore.Get(x.db, k)
		return v, err
	}
	var err error
	var v []byte
	if v, err = get(metaSchema); err != nil {
		return err
	}
	switch {
	case len(v) == 0:
		return fmt.Errorf("%w: no schema version", ErrCorrupt)
	case v[0] != schemaVersion:
		return fmt.Errorf("%w: schema version %d, this build reads %d", ErrCorrupt, v[0], schemaVersion)
	}
	if v, err = get(metaSeq); err != nil {
		return err
	}
	x.seq = u64(v)
	if v, err = get(metaEpoch); err != nil {
		return err
	}
	copy(x.epoch[:], v)
	if v, err = get(metaHeard); err != nil {
		return err
	}
	x.heard = u64(v)
	if v, err = get(metaHistSeq); err != nil {
		return err
	}
	x.histSeq = u64(v)
	if v, err = get(metaUnacked); err != nil {
		return err
	}
	x.unacked = int64(u64(v))
	if v, err = get(metaCount); err != nil {
		return err
	}
	if len(v) == 16 {
		x.count.Store(int64(u64(v[:8])))
		x.live.Store(int64(u64(v[8:])))
	}
	return nil
}

// Close closes the store, after the calls in progress. Closing again
// does nothing; other calls after Close fail with ErrClosed (or find
// nothing: Get, WantID).
func (x *Index) Close() error {
	if !x.guard.close() {
		return nil
	}
	if err := x.db.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return nil
}

// guard keeps Close from closing the store under a call (Pebble panics on
// a closed store, where bbolt returned an error).
type guard struct {
	mu     sync.RWMutex
	closed bool
}

// enter reports whether the store is open, and then keeps it so until
// exit.
func (g *guard) enter() bool {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *guard) exit() { g.mu.RUnlock() }

// close marks the store closed once every call has exited; it reports
// whether it was open.
func (g *guard) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := !g.closed
	g.closed = true
	return was
}

// Exists reports whether stateDir holds an index (the store, or an older
// index file Open migrates), without creating anything (Open creates the
// directory and the store).
func Exists(stateDir string) (bool, error) {
	for _, name := range []string{DirName, LegacyFileName} {
		_, err := os.Stat(filepath.Join(stateDir, name))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		default:
			return false, fmt.Errorf("index: %w", err)
		}
	}
	return false, nil
}
