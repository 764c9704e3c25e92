package index

import (
	"encoding/binary"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// TestHistoryKeepsRepeats: content written, deleted, written again and
// deleted again (the same IDs twice: a tombstone's ID depends only on its
// base) leaves every step in the history, newest first; a record written
// before repeats were kept (no counter in the key) is still read in order.
func TestHistoryKeepsRepeats(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	live := Entry{Manifest: fileManifest("p", "the same bytes")}
	gone := Entry{Manifest: manifest.NewTombstone("p", manifest.KindFile, live.Manifest.ID, 5)}
	for _, e := range []Entry{live, gone, live, gone} {
		x.Stage(e)
		if err := x.Flush(); err != nil { // one write per step, as a peer records them
			t.Fatal(err)
		}
	}
	want := []manifest.ID{live.Manifest.ID, gone.Manifest.ID, live.Manifest.ID}
	if got, err := x.History("p"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("history %v %v, want %v", got, err, want)
	}

	// An old-format record (key path NUL ID) of another path, in a bbolt
	// index migrated at open: older than what is staged after.
	dir2 := t.TempDir()
	old := manifest.Hash([]byte("old"))
	writeLegacy(t, dir2, func(tx *bolt.Tx) error {
		b := tx.Bucket(legacyHistory)
		if _, err := b.NextSequence(); err != nil {
			return err
		}
		return b.Put(append([]byte("q\x00"), old[:]...), binary.BigEndian.AppendUint64(nil, 1))
	})
	y, err := Open(dir2)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	y.Stage(Entry{Manifest: fileManifest("q", "a")})
	y.Stage(Entry{Manifest: fileManifest("q", "b")})
	if err := y.Flush(); err != nil {
		t.Fatal(err)
	}
	wantQ := []manifest.ID{fileManifest("q", "a").ID, old}
	if got, err := y.History("q"); err != nil || !slices.Equal(got, wantQ) {
		t.Fatalf("mixed formats: history %v %v, want %v", got, err, wantQ)
	}
}
