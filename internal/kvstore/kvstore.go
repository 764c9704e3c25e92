package kvstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble"
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

// Open opens (creating if needed, unless ReadOnly) the store in dir.
func Open(dir string, o Options) (*pebble.DB, error) {
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
	if !o.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("kvstore: %w", err)
		}
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		if isLockErr(err) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("kvstore: open %s: %w", dir, err)
	}
	return db, nil
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
