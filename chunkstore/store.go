package chunkstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/internal/groupcommit"
	"github.com/dartsync/dartsync/manifest"
)

// lockTimeout bounds how long Open waits for another process's lock on the
// database before failing with ErrLocked.
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

// Open opens (creating if needed) the chunk store of the folder at root,
// with its database at stateDir/chunks.db and partial downloads in
// stateDir/partial/. An empty stateDir means root/.dartsync. A nil log
// discards. The database is locked against other processes; Open fails with
// ErrLocked after a short wait if it is in use. Open never creates root: a
// state directory inside a missing folder (an unmounted disk) is an error
// wrapping fs.ErrNotExist. With a state directory on another filesystem than
// the folder, commits copy through root/.dartsync/tmp, which needs
// root/.dartsync (a synced folder's marker directory) to exist.
func Open(root, stateDir string, log *slog.Logger) (*Store, error) {
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
	dbPath := filepath.Join(stateDir, "chunks.db")
	db, err := bolt.Open(dbPath, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, dbPath)
	}
	if err != nil {
		return nil, fmt.Errorf("chunkstore: open %s: %w", dbPath, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketPieces, bucketRefs, bucketFiles, bucketPartials, bucketStamps} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keyVersion)
		if v == nil {
			return meta.Put(keyVersion, binary.AppendUvarint(nil, schemaVersion))
		}
		if got, n := binary.Uvarint(v); n <= 0 || got != schemaVersion {
			return fmt.Errorf("unsupported schema version %x (want %d)", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("chunkstore: open %s: %w", dbPath, err)
	}
	s := &Store{
		paths:    layout{root: root, partDir: partDir},
		db:       newDB(db),
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

// db is the store's database; its writes go through one group commit.
type db struct {
	*bolt.DB
	commits *groupcommit.Group[func(*bolt.Tx) error]
}

func newDB(b *bolt.DB) *db {
	d := &db{DB: b}
	d.commits = groupcommit.New(d.commit, groupcommit.Options[func(*bolt.Tx) error]{})
	return d
}

// update runs fn in a read-write transaction and returns once it is durable.
// Calls made while another commit is in progress are coalesced into one
// transaction (group commit), so concurrent writers share fsyncs. fn must
// only touch the transaction: it may be run a second time, alone, if another
// call in its group failed.
func (d *db) update(fn func(*bolt.Tx) error) error { return d.commits.Do(fn) }

// commit runs a group's calls in one transaction; a call's own error is a
// *groupcommit.CallError, so that each call of the group is run again alone.
func (d *db) commit(group []func(*bolt.Tx) error) error {
	return d.Update(func(tx *bolt.Tx) error {
		for i, fn := range group {
			if err := fn(tx); err != nil {
				return &groupcommit.CallError{Index: i, Err: err}
			}
		}
		return nil
	})
}
