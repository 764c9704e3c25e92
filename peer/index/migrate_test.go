package index

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble"
	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// legacyState is what fillLegacy writes into a bbolt index, as the code
// before the store wrote it.
type legacyState struct {
	file, oldFile, dir, tomb Entry
	want                     Want
	mem                      Membership
	epoch                    [16]byte
	h1, h2, h3               manifest.ID // history of file: h3 newest
	unacked                  manifest.ID
}

func newLegacyState() legacyState {
	s := legacyState{
		file:    Entry{Manifest: fileManifest("d/f.txt", "current"), Stat: scan.Stat{Size: 7, ModTime: 1e18, Inode: 11, Ctime: 1e18 + 1}},
		oldFile: Entry{Manifest: fileManifest("d/old.txt", "old layout"), Stat: scan.Stat{Size: 10, ModTime: 1e18, Inode: 12}},
		dir:     Entry{Manifest: manifest.NewDir("d", 5)},
		mem:     Membership{Addr: "tracker:7000", Tracker: identity.DeviceID{7}, PieceSize: 1 << 16},
		epoch:   [16]byte{4, 2},
		h1:      manifest.Hash([]byte("h1")), h2: manifest.Hash([]byte("h2")), h3: manifest.Hash([]byte("h3")),
		unacked: manifest.Hash([]byte("u")),
	}
	s.tomb = Entry{Manifest: manifest.NewTombstone("gone", manifest.KindFile, s.h1, 6)}
	s.want = Want{Manifest: bigManifest("w/big", 3), Owners: []identity.DeviceID{{3}}, Seq: 40}
	return s
}

func fillLegacy(t testing.TB, s legacyState) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		files := tx.Bucket(legacyFiles)
		cur, err := encodeEntry(&s.file)
		if err != nil {
			return err
		}
		dir, _ := encodeEntry(&s.dir)
		tomb, _ := encodeEntry(&s.tomb)
		for k, v := range map[string][]byte{"d/f.txt": cur, "d/old.txt": oldEntry(t, s.oldFile), "d": dir, "gone": tomb} {
			if err := files.Put([]byte(k), v); err != nil {
				return err
			}
		}
		w, err := encodeWant(&s.want)
		if err != nil {
			return err
		}
		if err := tx.Bucket(legacyWants).Put([]byte("w/big"), w); err != nil {
			return err
		}
		meta := tx.Bucket(legacyMeta)
		for k, v := range map[string][]byte{
			"seq": binary.BigEndian.AppendUint64(nil, 41), "heard": binary.BigEndian.AppendUint64(nil, 45),
			"epoch": s.epoch[:], "tracker": encodeMembership(&s.mem),
		} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		h := tx.Bucket(legacyHistory)
		for i, id := range []manifest.ID{s.h1, s.h2, s.h3} {
			n, _ := h.NextSequence()
			key := append([]byte("d/f.txt\x00"), id[:]...)
			if i > 0 { // the first one before repeats were kept
				key = binary.BigEndian.AppendUint64(key, n)
			}
			if err := h.Put(key, binary.BigEndian.AppendUint64(nil, n)); err != nil {
				return err
			}
		}
		return tx.Bucket(legacyUnacked).Put([]byte("d/f.txt"), s.unacked[:])
	}
}

// checkMigrated checks that x holds s.
func checkMigrated(t *testing.T, x *Index, s legacyState) {
	t.Helper()
	for _, e := range []Entry{s.file, s.oldFile, s.dir, s.tomb} {
		got, ok := x.Get(e.Manifest.Path)
		if !ok || got.Manifest.ID != e.Manifest.ID || got.Stat != e.Stat || got.Manifest.ModTime != e.Manifest.ModTime {
			t.Errorf("entry %s = %+v %v, want %+v", e.Manifest.Path, got, ok, e)
		}
	}
	if x.Len() != 4 || !x.HasLive() {
		t.Errorf("Len %d HasLive %v, want 4 true", x.Len(), x.HasLive())
	}
	if w, ok, err := x.Want("w/big", s.want.Manifest.ID); err != nil || !ok || len(w.Manifest.Pieces) != 3 || w.Seq != 40 || w.Owners[0] != s.want.Owners[0] {
		t.Errorf("want = %+v %v %v", w, ok, err)
	}
	if x.Seq() != 41 || x.Heard() != 45 || x.Epoch() != s.epoch {
		t.Errorf("Seq %d Heard %d Epoch %x", x.Seq(), x.Heard(), x.Epoch())
	}
	if m, ok, err := x.Membership(); err != nil || !ok || m != s.mem {
		t.Errorf("Membership = %+v %v %v", m, ok, err)
	}
	if h, err := x.History("d/f.txt"); err != nil || !slices.Equal(h, []manifest.ID{s.h3, s.h2, s.h1}) {
		t.Errorf("History = %v %v", h, err)
	}
	if u, err := x.Unacked([]string{"d/f.txt"}); err != nil || !slices.Equal(u["d/f.txt"], []manifest.ID{s.unacked}) {
		t.Errorf("Unacked = %v %v", u, err)
	}
}

// TestMigrateFromBolt: an index.db written by the bbolt code is copied
// whole into the store at open and removed; history written after the
// migration is newer than the migrated history.
func TestMigrateFromBolt(t *testing.T) {
	dir := t.TempDir()
	s := newLegacyState()
	writeLegacy(t, dir, fillLegacy(t, s))
	if ok, err := Exists(dir); !ok || err != nil {
		t.Fatalf("Exists with only index.db = %v %v", ok, err)
	}
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, x, s)
	if _, err := os.Stat(filepath.Join(dir, LegacyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("index.db after the migration: %v", err)
	}
	next := Entry{Manifest: fileManifest("d/f.txt", "next")}
	x.Stage(next)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if h, err := x.History("d/f.txt"); err != nil || !slices.Equal(h, []manifest.ID{s.file.Manifest.ID, s.h3, s.h2, s.h1}) {
		t.Errorf("History after a new version = %v %v", h, err)
	}
	if x.Len() != 4 {
		t.Errorf("Len after reopen = %d", x.Len())
	}
	if u, err := x.Unacked([]string{"d/f.txt"}); err != nil || len(u) != 0 {
		t.Errorf("the migrated unacked reports of a path staged since: %v %v", u, err)
	}
}

// TestMigrateRedoneAfterACrash: a migration interrupted before its schema
// record (the store holds part of it, and records the old index does not
// have) is redone from the start: nothing of the first attempt is left.
// One interrupted after it (index.db not removed yet) is not redone.
func TestMigrateRedoneAfterACrash(t *testing.T) {
	dir := t.TempDir()
	s := newLegacyState()
	writeLegacy(t, dir, fillLegacy(t, s))
	db, err := kvstore.Open(filepath.Join(dir, DirName), kvstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := encodeRecord(&Entry{Manifest: fileManifest("stray", "x")})
	b := db.NewBatch()
	b.Set(pathKey(prefixFiles, "stray"), rec, nil)
	b.Set(metaCount, append(putU64(9), putU64(9)...), nil)
	b.Set(historyKey("d/f.txt", 99), s.h1[:], nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, x, s)
	if _, ok := x.Get("stray"); ok {
		t.Error("a record of the interrupted migration survived")
	}
	// The store changes; then a leftover index.db (a crash before its
	// removal) must not be migrated again.
	x.Stage(Entry{Manifest: fileManifest("new", "n")})
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	writeLegacy(t, dir, func(tx *bolt.Tx) error { return nil })
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, ok := x.Get("new"); !ok || x.Len() != 5 {
		t.Errorf("the store was migrated again: Len %d", x.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, LegacyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover index.db not removed: %v", err)
	}
}

// TestOpenLocked: a second Open of an index in use fails with ErrLocked
// (after waiting for it a little), and the first one keeps working.
func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	x.Stage(Entry{Manifest: fileManifest("f", "f")})
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenWithSharedCache: two indexes share one block cache.
func TestOpenWithSharedCache(t *testing.T) {
	c := kvstore.NewCache(1 << 20)
	defer c.Unref()
	for _, d := range []string{t.TempDir(), t.TempDir()} {
		x, err := OpenWith(d, kvstore.Options{Cache: c})
		if err != nil {
			t.Fatal(err)
		}
		x.Stage(Entry{Manifest: fileManifest("f", d)})
		if e, ok := x.Get("f"); !ok || e.Manifest.ID != fileManifest("f", d).ID {
			t.Errorf("Get = %v", ok)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
