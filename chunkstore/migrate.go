package chunkstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// The schema 1 database (bbolt, stateDir/chunks.db): its buckets and
// version.
var (
	v1Meta     = []byte("meta")
	v1Pieces   = []byte("pieces")
	v1Refs     = []byte("refs")
	v1Files    = []byte("files")
	v1Partials = []byte("partials")
	v1Stamps   = []byte("stamps")
	v1Version  = []byte("version")
)

const (
	v1SchemaVersion = 1
	v1RefKeyLen     = 8
)

// migrateBatch is how many records one batch of a migration copies.
const migrateBatch = 4096

// migrateOptions are the tests' handles on a migration.
type migrateOptions struct {
	batch     int // records per batch; 0: migrateBatch
	stopAfter int // > 0: return errInterrupted after this many records (a crash)
}

var errInterrupted = errors.New("migration interrupted")

// migrate copies the records of stateDir/chunks.db (schema 1) into d, if
// that file exists, one way: in batches of migrateBatch records, then the
// schema version record, synced, last; then it removes chunks.db and syncs
// stateDir. A migration interrupted before its version record (a crash)
// is redone from the start at the next open: what it had copied is
// deleted first. With the version record present, chunks.db is only
// removed.
func migrate(d *kvstore.Store, stateDir string, log *slog.Logger, o migrateOptions) error {
	oldPath := filepath.Join(stateDir, "chunks.db")
	if _, err := os.Stat(oldPath); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	_, done, err := kvstore.Get(d, keyVersion)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if !done {
		began := time.Now()
		n, err := copyV1(d, oldPath, o)
		if err != nil {
			return err
		}
		log.Info("chunkstore: migrated the chunk store to the new format", "records", n,
			"took", time.Since(began).Round(time.Millisecond))
	}
	if err := os.Remove(oldPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := syncDir(stateDir); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// copyV1 copies every record of the schema 1 database at path into d and
// writes the version record last; it returns how many records it copied.
func copyV1(d *kvstore.Store, path string, o migrateOptions) (int, error) {
	old, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if errors.Is(err, berrors.ErrTimeout) {
		return 0, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", path, err)
	}
	defer old.Close()
	// Whatever an interrupted migration copied goes first.
	if err := d.Room(); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if err := d.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	c := &v1Copier{d: d.DB, room: d.Room, o: o}
	if c.o.batch <= 0 {
		c.o.batch = migrateBatch
	}
	c.b = d.NewBatch()
	defer func() { c.b.Close() }()
	var seq uint64
	err = old.View(func(tx *bolt.Tx) error {
		if err := checkV1(tx); err != nil {
			return err
		}
		seq = tx.Bucket(v1Refs).Sequence()
		for _, step := range []func(*bolt.Tx) error{c.files, c.refs, c.pieces, c.partials} {
			if err := step(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return c.n, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := c.b.Set(keySeq, binary.AppendUvarint(nil, seq+1), nil); err != nil {
		return c.n, err
	}
	if err := c.b.Set(keyVersion, binary.AppendUvarint(nil, schemaVersion), nil); err != nil {
		return c.n, err
	}
	if err := c.room(); err != nil {
		return c.n, fmt.Errorf("migrate: %w", err)
	}
	if err := c.b.Commit(pebble.Sync); err != nil { // syncs the log: every batch before it too
		return c.n, fmt.Errorf("migrate: %w", err)
	}
	return c.n, nil
}

// checkV1 checks that tx is a schema 1 database.
func checkV1(tx *bolt.Tx) error {
	meta := tx.Bucket(v1Meta)
	if meta == nil {
		return errors.New("no meta bucket")
	}
	if v, n := binary.Uvarint(meta.Get(v1Version)); n <= 0 || v != v1SchemaVersion {
		return fmt.Errorf("unsupported schema version %x", meta.Get(v1Version))
	}
	for _, b := range [][]byte{v1Pieces, v1Refs, v1Files, v1Partials, v1Stamps} {
		if tx.Bucket(b) == nil {
			return fmt.Errorf("no %s bucket", b)
		}
	}
	return nil
}

// v1Copier writes converted records into batches of o.batch records.
type v1Copier struct {
	d    *pebble.DB
	room func() error // kvstore.Store.Room, before every commit
	b    *pebble.Batch
	o    migrateOptions
	n    int // records copied
}

func (c *v1Copier) set(k, v []byte) error {
	if err := c.b.Set(k, v, nil); err != nil {
		return err
	}
	c.n++
	if c.o.stopAfter > 0 && c.n >= c.o.stopAfter {
		if err := c.room(); err != nil {
			return err
		}
		if err := c.b.Commit(pebble.NoSync); err != nil {
			return err
		}
		return errInterrupted
	}
	if c.n%c.o.batch != 0 {
		return nil
	}
	if err := c.room(); err != nil {
		return err
	}
	if err := c.b.Commit(pebble.NoSync); err != nil {
		return err
	}
	c.b.Close()
	c.b = c.d.NewBatch()
	return nil
}

// files: path → 8-byte ref becomes f‖path → uvarint ref.
func (c *v1Copier) files(tx *bolt.Tx) error {
	return tx.Bucket(v1Files).ForEach(func(k, v []byte) error {
		if len(v) != v1RefKeyLen {
			return nil // corrupt: dropped (the next scan records the file again)
		}
		return c.set(fileKey(string(k)), binary.AppendUvarint(nil, beUint64(v)))
	})
}

// refs: ref → kind, name, size, piece size, full hashes, plus the stamps
// bucket, become one record with the stamp and hash prefixes.
func (c *v1Copier) refs(tx *bolt.Tx) error {
	stamps := tx.Bucket(v1Stamps)
	return tx.Bucket(v1Refs).ForEach(func(k, v []byte) error {
		if len(k) != v1RefKeyLen {
			return nil
		}
		rec, ok := decodeV1Ref(v)
		if !ok {
			return nil // corrupt: dropped, as the old code ignored it
		}
		if rec.kind == kindFile {
			if size, mtime, ok := decodeV1Stamp(stamps.Get(k)); ok && size == rec.size {
				rec.kind, rec.mtime = kindStamped, mtime
			}
		}
		return c.set(refKey(beUint64(k)), encodeRef(rec))
	})
}

// pieces: H‖ref → location becomes h‖H[:4]‖ref‖H[4:] → location.
func (c *v1Copier) pieces(tx *bolt.Tx) error {
	return tx.Bucket(v1Pieces).ForEach(func(k, v []byte) error {
		if len(k) != manifest.IDSize+v1RefKeyLen {
			return nil
		}
		if _, _, err := decodeLoc(v); err != nil {
			return nil
		}
		return c.set(pieceKey(manifest.ID(k[:manifest.IDSize]), beUint64(k[manifest.IDSize:])), v)
	})
}

// partials: the record format did not change.
func (c *v1Copier) partials(tx *bolt.Tx) error {
	return tx.Bucket(v1Partials).ForEach(func(k, v []byte) error {
		if len(k) != manifest.IDSize {
			return nil
		}
		return c.set(partialKey(manifest.ID(k)), v)
	})
}
