package chunkstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/manifest"
)

// lockTimeout bounds how long Open waits for another process's lock on the
// store before failing with ErrLocked.
const lockTimeout = time.Second

// Store is the chunk store of one folder. See the package documentation.
type Store struct {
	paths layout
	db    *db
	log   *slog.Logger
	dirs  *dirSync // what is known durable, and how data is made so

	mu       sync.Mutex               // guards partials and closed; never held across I/O
	partials map[manifest.ID]*Partial // open partials; nil value: being discarded
	closed   bool
	// direct: partial pieces are written with O_DIRECT (see writeAt);
	// cleared at the first refusal.
	direct      atomic.Bool
	writeDirect func(path string, data []byte, off int64) error // writeDirect; tests replace it
	committed   recentCommits                                   // partials committed lately (held.go)
}

// Options tunes OpenOptions. The zero value is what Open uses.
type Options struct {
	// Log receives the store's warnings; nil discards.
	Log *slog.Logger
	// Cache, if set, is the block cache to share with the peer's other
	// stores (kvstore.NewCache); the caller Unrefs it after Close.
	Cache *pebble.Cache
}

// Open opens (creating if needed) the chunk store of the folder at root,
// with its database in stateDir/chunks/ and partial downloads in
// stateDir/partial/. An empty stateDir means root/.dartsync. A nil log
// discards. The database is locked against other processes; Open fails with
// ErrLocked after a short wait if it is in use. Open never creates root: a
// state directory inside a missing folder (an unmounted disk) is an error
// wrapping fs.ErrNotExist. With a state directory on another filesystem than
// the folder, commits copy through root/.dartsync/tmp, which needs
// root/.dartsync (a synced folder's marker directory) to exist. A database
// of an older version (stateDir/chunks.db) is migrated, then removed
// (migrate.go).
func Open(root, stateDir string, log *slog.Logger) (*Store, error) {
	return OpenOptions(root, stateDir, Options{Log: log})
}

// OpenOptions is Open with options (a shared block cache).
func OpenOptions(root, stateDir string, o Options) (*Store, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("chunkstore: open: %w", err)
	}
	if stateDir == "" {
		stateDir = filepath.Join(root, manifest.StateDir)
	}
	if stateDir, err = filepath.Abs(stateDir); err != nil {
		return nil, fmt.Errorf("chunkstore: open: %w", err)
	}
	if _, inside := folderpath.Rel(root, stateDir); inside {
		if _, err := os.Stat(root); err != nil {
			return nil, fmt.Errorf("chunkstore: open: folder of state directory %s: %w", stateDir, err)
		}
	}
	partDir := filepath.Join(stateDir, "partial")
	if err := os.MkdirAll(partDir, 0o700); err != nil {
		return nil, fmt.Errorf("chunkstore: open: %w", err)
	}
	d, err := openDB(stateDir, o.Cache, log, migrateOptions{})
	if err != nil {
		return nil, err
	}
	s := &Store{
		paths:    layout{root: root, partDir: partDir},
		db:       d,
		log:      log,
		partials: make(map[manifest.ID]*Partial),

		writeDirect: writeDirect,
	}
	s.dirs = &dirSync{paths: s.paths, log: log}
	s.direct.Store(directSupported)
	return s, nil
}

// Close syncs and closes every open partial (they stay resumable) and closes
// the database. Further calls return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	open := make([]*Partial, 0, len(s.partials))
	for _, p := range s.partials {
		if p != nil { // nil: reserved by DiscardPartial
			open = append(open, p)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, p := range open {
		if err := p.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("chunkstore: close: %w", err))
	}
	return errors.Join(errs...)
}

// Root returns the absolute folder root.
func (s *Store) Root() string { return s.paths.root }
