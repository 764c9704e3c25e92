package index

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

func fileManifest(path string, data string) manifest.Manifest {
	pieces := []manifest.Piece{{Hash: manifest.Hash([]byte(data)), Weak: manifest.WeakSum([]byte(data))}}
	m := manifest.Manifest{Path: path, Size: int64(len(data)), ModTime: 1e18, PieceSize: manifest.MinPieceSize, Pieces: pieces}
	if len(data) == 0 {
		m.Pieces = nil
	}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	return m
}

func TestIndexPersistsEntriesWantsSeqAndMembership(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := Entry{Manifest: fileManifest("dir/a.txt", "hello"), Stat: scan.Stat{Size: 5, ModTime: 42, Inode: 7, Ctime: 43}}
	tomb := Entry{Manifest: manifest.NewTombstone("gone", manifest.KindFile, a.Manifest.ID, 9)}
	dirE := Entry{Manifest: manifest.NewDir("dir", 3)}
	x.Stage(a)
	if got, ok := x.Get("dir/a.txt"); !ok || got.Stat != a.Stat {
		t.Fatalf("staged entry not visible: %+v %v", got, ok)
	}
	owner := [32]byte{1, 2, 3}
	want := Want{Manifest: fileManifest("w", "remote"), Owners: []identity.DeviceID{owner}, Seq: 11}
	mem := Membership{Addr: "127.0.0.1:7000", Tracker: [32]byte{9}, PieceSize: 1 << 16}
	if err := x.Update(Batch{Put: []Entry{tomb, dirE}, Wants: []Want{want}, Seq: 11, Membership: &mem}); err != nil {
		t.Fatal(err)
	}
	// A lower sequence number never moves Seq back.
	if err := x.Update(Batch{Seq: 5}); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.Seq() != 11 {
		t.Errorf("Seq = %d, want 11", x.Seq())
	}
	if got, ok := x.Get("dir/a.txt"); !ok || got.Stat != a.Stat || got.Manifest.ID != a.Manifest.ID {
		t.Errorf("entry after reopen = %+v, %v", got, ok)
	}
	if got, ok := x.Get("gone"); !ok || !got.Manifest.Deleted || got.Manifest.Base != a.Manifest.ID {
		t.Errorf("tombstone after reopen = %+v, %v", got, ok)
	}
	if got := x.Paths(); len(got) != 3 || got[0] != "dir" || got[1] != "dir/a.txt" || got[2] != "gone" {
		t.Errorf("Paths = %q", got)
	}
	ws, err := x.Wants()
	if err != nil || len(ws) != 1 || ws[0].Manifest.ID != want.Manifest.ID || ws[0].Owners[0] != owner || ws[0].Seq != 11 {
		t.Errorf("Wants = %+v, %v", ws, err)
	}
	if id, ok := x.WantID("w"); !ok || id != want.Manifest.ID {
		t.Errorf("WantID = %v, %v", id, ok)
	}
	if _, ok := x.WantID("nope"); ok {
		t.Error("WantID of a path without want")
	}
	gotMem, ok, err := x.Membership()
	if err != nil || !ok || gotMem != mem {
		t.Errorf("Membership = %+v, %v, %v", gotMem, ok, err)
	}
	if err := x.Update(Batch{DoneWants: []Done{{Path: "w", ID: fileManifest("w", "older").ID}}}); err != nil {
		t.Fatal(err)
	}
	if ws, _ := x.Wants(); len(ws) != 1 {
		t.Errorf("want for a newer version removed by a Done for an older one: %+v", ws)
	}
	if err := x.Update(Batch{DoneWants: []Done{{Path: "w", Before: 11}}}); err != nil {
		t.Fatal(err)
	}
	if ws, _ := x.Wants(); len(ws) != 1 {
		t.Errorf("want of seq 11 removed by a Done before seq 11: %+v", ws)
	}
	if err := x.Update(Batch{DoneWants: []Done{{Path: "w", ID: want.Manifest.ID, Before: 12}}, Delete: []string{"gone"}}); err != nil {
		t.Fatal(err)
	}
	if ws, _ := x.Wants(); len(ws) != 0 {
		t.Errorf("want not removed: %+v", ws)
	}
	if _, ok := x.Get("gone"); ok {
		t.Error("deleted entry still there")
	}
}

func TestDecodeRejectsCorruptRecords(t *testing.T) {
	good, err := encodeEntry(&Entry{Manifest: fileManifest("a", "x")})
	if err != nil {
		t.Fatal(err)
	}
	goodWant, err := encodeWant(&Want{Manifest: fileManifest("a", "x"), Owners: []identity.DeviceID{{1}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		decode  func([]byte) error
		in      []byte
		wantErr bool
	}{
		{"entry ok", func(b []byte) error { _, err := decodeEntry(b); return err }, good, false},
		{"entry short", func(b []byte) error { _, err := decodeEntry(b); return err }, good[:10], true},
		{"entry bad manifest", func(b []byte) error { _, err := decodeEntry(b); return err }, good[:len(good)-3], true},
		{"want ok", func(b []byte) error { _, err := decodeWant(b); return err }, goodWant, false},
		{"want short", func(b []byte) error { _, err := decodeWant(b); return err }, goodWant[:43], true},
		{"want too many owners", func(b []byte) error {
			c := append([]byte(nil), b...)
			c[40], c[41], c[42], c[43] = 0xff, 0xff, 0xff, 0x7f
			_, err := decodeWant(c)
			return err
		}, goodWant, true},
		{"want key mismatch", func(b []byte) error {
			c := append([]byte(nil), b...)
			c[0] ^= 1
			_, err := decodeWant(c)
			return err
		}, goodWant, true},
		{"membership short", func(b []byte) error { _, err := decodeMembership(b); return err }, make([]byte, 39), true},
	}
	for _, tt := range tests {
		err := tt.decode(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v does not wrap ErrCorrupt", tt.name, err)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	good, _ := encodeEntry(&Entry{Manifest: fileManifest("a/b", "data"), Stat: scan.Stat{Size: 4, ModTime: 1, Inode: 2, Ctime: 3}})
	f.Add(good)
	f.Add(oldEntry(f, Entry{Manifest: fileManifest("a/b", "data")})) // before the ctime was kept
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		again, err := encodeEntry(&e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := decodeEntry(again)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if e2.Stat != e.Stat || e2.Manifest.ID != e.Manifest.ID {
			t.Fatalf("re-encoded entry decodes to %+v, want %+v", e2.Stat, e.Stat)
		}
	})
}

func TestExistsAndHasLive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if ok, err := Exists(dir); ok || err != nil {
		t.Fatalf("Exists before Open = %v, %v", ok, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Exists created the state directory: %v", err)
	}
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if ok, err := Exists(dir); !ok || err != nil {
		t.Fatalf("Exists after Open = %v, %v", ok, err)
	}
	steps := []struct {
		put  Entry
		live bool
	}{
		{Entry{Manifest: manifest.NewTombstone("gone", manifest.KindFile, manifest.ID{1}, 1)}, false},
		{Entry{Manifest: manifest.NewDir("dir", 1)}, true},
		{Entry{Manifest: manifest.NewTombstone("dir", manifest.KindDir, manifest.DirID(), 2)}, false},
		{Entry{Manifest: fileManifest("f", "x")}, true},
	}
	if x.HasLive() {
		t.Fatal("empty index has live entries")
	}
	for i, s := range steps {
		x.Stage(s.put)
		if got := x.HasLive(); got != s.live {
			t.Fatalf("step %d (%s): HasLive = %v, want %v", i, s.put.Manifest.Path, got, s.live)
		}
	}
}
