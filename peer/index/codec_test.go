package index

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
	bolt "go.etcd.io/bbolt"
)

// oldEntry encodes e in the layout written before the index kept the ctime:
// size | mtime | inode | manifest.
func oldEntry(t testing.TB, e Entry) []byte {
	t.Helper()
	mb, err := manifest.Marshal(&e.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 24, 24+len(mb))
	binary.LittleEndian.PutUint64(b[0:], uint64(e.Stat.Size))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.Stat.ModTime))
	binary.LittleEndian.PutUint64(b[16:], e.Stat.Inode)
	return append(b, mb...)
}

// TestEntryLayouts: an entry round-trips with its ctime; an old record
// decodes with the ctime unknown (0); a record cut inside the ctime
// extension is corrupt.
func TestEntryLayouts(t *testing.T) {
	e := Entry{Manifest: fileManifest("a/b", "data"), Stat: scan.Stat{Size: 4, ModTime: 1e18, Inode: 99, Ctime: 1e18 + 5}}
	cur, err := encodeEntry(&e)
	if err != nil {
		t.Fatal(err)
	}
	old := oldEntry(t, e)
	tests := []struct {
		name     string
		in       []byte
		wantStat scan.Stat
		wantErr  error
	}{
		{"current", cur, e.Stat, nil},
		{"old layout: ctime unknown", old, scan.Stat{Size: 4, ModTime: 1e18, Inode: 99}, nil},
		{"cut in the ctime", cur[:30], scan.Stat{}, ErrCorrupt},
		{"extension without manifest", cur[:entryHead], scan.Stat{}, ErrCorrupt},
		{"old layout without manifest", old[:24], scan.Stat{}, ErrCorrupt},
	}
	for _, tt := range tests {
		got, err := decodeEntry(tt.in)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.Stat != tt.wantStat || got.Manifest.ID != e.Manifest.ID || got.Manifest.Path != e.Manifest.Path {
			t.Errorf("%s: decoded %+v %q, want %+v %q", tt.name, got.Stat, got.Manifest.Path, tt.wantStat, e.Manifest.Path)
		}
	}
}

// TestOpenReadsOldEntries: a bbolt index written by an earlier version
// (entries in the old layout) is migrated at open; its entries have an unknown ctime until they
// are staged again, and are then written in the current layout.
func TestOpenReadsOldEntries(t *testing.T) {
	dir := t.TempDir()
	e := Entry{Manifest: fileManifest("old.txt", "old"), Stat: scan.Stat{Size: 3, ModTime: 1e18, Inode: 5}}
	writeLegacy(t, dir, func(tx *bolt.Tx) error {
		return tx.Bucket(legacyFiles).Put([]byte("old.txt"), oldEntry(t, e))
	})

	x, err := Open(dir)
	if err != nil {
		t.Fatalf("index with old entries does not open: %v", err)
	}
	got, ok := x.Get("old.txt")
	if !ok || got.Stat != e.Stat || got.Stat.Ctime != 0 || got.Manifest.ID != e.Manifest.ID {
		t.Fatalf("old entry = %+v, %v; want %+v with ctime 0", got, ok, e.Stat)
	}
	got.Stat.Ctime = 77
	x.Stage(got)
	if err := x.Flush(); err != nil {
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
	if again, _ := x.Get("old.txt"); again.Stat != got.Stat {
		t.Errorf("restaged entry after reopen = %+v, want %+v", again.Stat, got.Stat)
	}
}
