package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble"
	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// Buckets and meta keys of the bbolt index (LegacyFileName), read only by
// the migration.
var (
	legacyFiles   = []byte("files")
	legacyWants   = []byte("wants")
	legacyMeta    = []byte("meta")
	legacyHistory = []byte("history")
	legacyUnacked = []byte("unacked")
)

// migrateBatch bounds the records (and bytes) of one migration batch.
const (
	migrateBatch      = 1024
	migrateBatchBytes = 1 << 20
)

// migrate brings the store to schemaVersion: a new store gets its schema
// record; a store beside an older bbolt index gets that index's records,
// copied in bounded batches, the schema record last (one synced batch),
// and then the old file is removed. Until the schema record is written,
// the migration is redone from the start at the next open (what an
// interrupted one wrote is deleted first).
func migrate(s *kvstore.Store, stateDir string) error {
	db := s.DB
	legacy := filepath.Join(stateDir, LegacyFileName)
	_, hasSchema, err := kvstore.Get(db, metaSchema)
	if err != nil {
		return fmt.Errorf("index: open: %w", err)
	}
	_, statErr := os.Stat(legacy)
	hasLegacy := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return fmt.Errorf("index: %w", statErr)
	}
	switch {
	case hasSchema && hasLegacy: // migrated; the removal was interrupted
		return removeLegacy(legacy)
	case hasSchema:
		return nil
	case !hasLegacy:
		if err := s.Room(); err != nil {
			return fmt.Errorf("index: create: %w", err)
		}
		if err := db.Set(metaSchema, []byte{schemaVersion}, pebble.Sync); err != nil {
			return fmt.Errorf("index: create: %w", err)
		}
		return nil
	}
	if err := s.Room(); err != nil {
		return fmt.Errorf("index: migrate: %w", err)
	}
	if err := db.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
		return fmt.Errorf("index: migrate: %w", err)
	}
	old, err := bolt.Open(legacy, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockWait})
	if err != nil {
		return fmt.Errorf("index: migrate %s: %w", legacy, err)
	}
	err = old.View(func(tx *bolt.Tx) error { return copyLegacy(s, tx) })
	if cerr := old.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("index: migrate %s: %w", legacy, err)
	}
	return removeLegacy(legacy)
}

// removeLegacy removes the migrated bbolt file durably.
func removeLegacy(legacy string) error {
	if err := os.Remove(legacy); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("index: remove migrated %s: %w", legacy, err)
	}
	d, err := os.Open(filepath.Dir(legacy))
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("index: sync %s: %w", filepath.Dir(legacy), err)
	}
	return nil
}

// migration is one copy of a bbolt index into the store.
type migration struct {
	db          *pebble.DB
	room        func() error // kvstore.Store.Room
	b           *pebble.Batch
	n           int
	count, live uint64
	unacked     uint64
	histSeq     uint64
}

func (m *migration) set(k, v []byte) error {
	if err := m.b.Set(k, v, nil); err != nil {
		return err
	}
	m.n++
	if m.n < migrateBatch && m.b.Len() < migrateBatchBytes {
		return nil
	}
	if err := m.room(); err != nil {
		return err
	}
	if err := m.b.Commit(pebble.NoSync); err != nil {
		return err
	}
	m.b.Close()
	m.b, m.n = m.db.NewBatch(), 0
	return nil
}

func copyLegacy(st *kvstore.Store, tx *bolt.Tx) error {
	m := &migration{db: st.DB, room: st.Room, b: st.NewBatch()}
	defer func() { m.b.Close() }()
	steps := []struct {
		bucket []byte
		copy   func(k, v []byte) error
	}{
		{legacyFiles, m.file},
		{legacyWants, m.want},
		{legacyUnacked, func(k, v []byte) error { m.unacked++; return m.set(pathKey(prefixUnacked, string(k)), v) }},
		{legacyHistory, m.history},
		{legacyMeta, m.meta},
	}
	for _, s := range steps {
		b := tx.Bucket(s.bucket)
		if b == nil {
			continue
		}
		if err := b.ForEach(func(k, v []byte) error {
			if err := s.copy(k, v); err != nil {
				return fmt.Errorf("%s %q: %w", s.bucket, k, err)
			}
			return nil
		}); err != nil {
			return err
		}
		if string(s.bucket) == string(legacyHistory) {
			m.histSeq = max(m.histSeq, b.Sequence())
		}
	}
	counts := append(putU64(m.count), putU64(m.live)...)
	for _, kv := range [][2][]byte{{metaCount, counts}, {metaHistSeq, putU64(m.histSeq)}, {metaUnacked, putU64(m.unacked)}, {metaSchema, {schemaVersion}}} {
		if err := m.b.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	if err := m.room(); err != nil {
		return err
	}
	return m.b.Commit(pebble.Sync)
}

func (m *migration) file(k, v []byte) error {
	e, err := decodeEntry(v)
	if err != nil {
		return err
	}
	rec, err := encodeRecord(&e)
	if err != nil {
		return err
	}
	m.count++
	if !e.Manifest.Deleted {
		m.live++
	}
	return m.set(pathKey(prefixFiles, string(k)), rec)
}

func (m *migration) want(k, v []byte) error {
	w, err := decodeWant(v)
	if err != nil {
		return err
	}
	head, pieces, err := encodeWantRecord(&w)
	if err != nil {
		return err
	}
	for i := 0; i < pieceChunks(len(pieces)/36); i++ {
		lo := i * piecesChunk * 36
		if err := m.set(pieceChunkKey(string(k), i), pieces[lo:min(len(pieces), lo+piecesChunk*36)]); err != nil {
			return err
		}
	}
	return m.set(pathKey(prefixWants, string(k)), head)
}

// history converts a record keyed path NUL ID counter (or, older, path
// NUL ID), valued with the counter, to historyKey(path, counter) → ID.
func (m *migration) history(k, v []byte) error {
	const id, withN = manifest.IDSize, manifest.IDSize + 8
	var path []byte
	switch {
	case len(k) > withN && k[len(k)-withN-1] == 0: // a path never holds NUL
		path = k[:len(k)-withN-1]
	case len(k) > id && k[len(k)-id-1] == 0:
		path = k[:len(k)-id-1]
	default:
		return fmt.Errorf("%w: history key", ErrCorrupt)
	}
	if len(v) != 8 {
		return fmt.Errorf("%w: history counter", ErrCorrupt)
	}
	n := u64(v)
	m.histSeq = max(m.histSeq, n)
	rest := k[len(path)+1:]
	return m.set(historyKey(string(path), n), rest[:id])
}

func (m *migration) meta(k, v []byte) error {
	switch string(k) {
	case "seq":
		return m.set(metaSeq, v)
	case "tracker":
		return m.set(metaTracker, v)
	case "epoch":
		return m.set(metaEpoch, v)
	case "heard":
		return m.set(metaHeard, v)
	}
	return nil // nothing else was ever stored there
}
