package index

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// encodeEntry encodes e in the entry layout of the bbolt index (codec.go),
// to write old indexes in tests.
func encodeEntry(e *Entry) ([]byte, error) {
	mb, err := manifest.Marshal(&e.Manifest)
	if err != nil {
		return nil, fmt.Errorf("index: encode %q: %w", e.Manifest.Path, err)
	}
	b := make([]byte, entryHead, entryHead+len(mb))
	binary.LittleEndian.PutUint64(b[0:], uint64(e.Stat.Size))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.Stat.ModTime))
	binary.LittleEndian.PutUint64(b[16:], e.Stat.Inode)
	b[24] = statExt
	binary.LittleEndian.PutUint64(b[25:], uint64(e.Stat.Ctime))
	return append(b, mb...), nil
}

// writeLegacy creates a bbolt index (LegacyFileName) in dir with every
// bucket the old code created, and fills it with fill.
func writeLegacy(t testing.TB, dir string, fill func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, LegacyFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{legacyFiles, legacyWants, legacyMeta, legacyHistory, legacyUnacked} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fill(tx)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
