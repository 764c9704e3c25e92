package kvstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// ErrLocked: the store is open in another process (or another Open in this
// one).
var ErrLocked = errors.New("kvstore: store in use by another process")

// Defaults for Options fields left zero.
const (
	DefaultCacheSize     = 4 << 20
	DefaultMemTableSize  = 2 << 20
	defaultMemTableStops = 2
)

// Options tunes a store. The zero value is a store with its own
// DefaultCacheSize cache and DefaultMemTableSize memtables.
type Options struct {
	// Cache, if set, is the block cache to share (see NewCache); the caller
	// keeps its reference and Unrefs it after closing every store that uses
	// it.
	Cache *pebble.Cache
	// MemTableSize is the size of one memtable (and so about the largest
	// write-ahead log).
	MemTableSize uint64
	// ReadOnly opens the store without writing to it.
	ReadOnly bool
}

// NewCache returns a block cache of size bytes to share between stores; the
// caller Unrefs it when every store using it is closed.
func NewCache(size int64) *pebble.Cache { return pebble.NewCache(size) }

// Store is an open store: the Pebble database, and the disk reserve that
// keeps a full disk from reaching it (reserve.go).
type Store struct {
	*pebble.DB
	reserve *reserve
}

// Room returns nil if a write may go ahead, or an error wrapping ErrNoRoom
// (and so syscall.ENOSPC) if the disk is too full to write safely. A
// writer calls it before every commit: Pebble cannot survive a failed
// log write. It costs an atomic load while the store's reserve file is
// there, a statfs otherwise.
func (s *Store) Room() error {
	if s.reserve == nil {
		return nil
	}
	return s.reserve.room()
}

// Open opens (creating if needed, unless ReadOnly) the store in dir. An
// error wraps syscall.ENOSPC when the disk is too full to open it (opening
// writes what the log holds to a table): the caller may wait for room.
func Open(dir string, o Options) (*Store, error) {
	po := &pebble.Options{
		MemTableSize:                o.MemTableSize,
		MemTableStopWritesThreshold: defaultMemTableStops,
		L0CompactionThreshold:       2,
		MaxOpenFiles:                64,
		Logger:                      quietLogger{},
		ReadOnly:                    o.ReadOnly,
		FormatMajorVersion:          pebble.FormatNewest,
	}
	if po.MemTableSize == 0 {
		po.MemTableSize = DefaultMemTableSize
	}
	if o.Cache != nil {
		po.Cache = o.Cache
	} else {
		c := pebble.NewCache(DefaultCacheSize)
		defer c.Unref() // the store holds its own reference
		po.Cache = c
	}
	po.EnsureDefaults()
	for i := range po.Levels {
		po.Levels[i].Compression = pebble.SnappyCompression
	}
	var r *reserve
	if !o.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("kvstore: %w", err)
		}
		r = newReserve(dir, po.MemTableSize)
		if err := r.make(); err != nil {
			return nil, err
		}
		po.FS = vfs.OnDiskFull(vfs.Default, r.release)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		if isLockErr(err) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("kvstore: open %s: %w", dir, err)
	}
	return &Store{DB: db, reserve: r}, nil
}

func isLockErr(err error) bool {
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		return true
	}
	// Pebble wraps the lock failure with its own error type on some paths.
	s := err.Error()
	return strings.Contains(s, "resource temporarily unavailable") || strings.Contains(s, "lock held by current process")
}

// Get returns a copy of the value of key, or nil and false when there is
// none.
func Get(db pebble.Reader, key []byte) ([]byte, bool, error) {
	v, closer, err := db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// PrefixEnd returns the smallest key greater than every key with prefix p
// (nil: no upper bound), for IterOptions.UpperBound.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// quietLogger drops Pebble's informational lines (the peer logs what
// matters itself) and keeps fatal ones fatal.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("kvstore: pebble: "+format, args...))
}
