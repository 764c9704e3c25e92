package index

import (
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// TestRecordRoundTrip: every kind of entry decodes to what was encoded,
// file ID recomputed, path from the key; a single-piece file's record is
// small (the path and the file ID are not in it).
func TestRecordRoundTrip(t *testing.T) {
	exec := fileManifest("x/run.sh", "#!/bin/sh")
	exec.Exec = true
	withBase := fileManifest("x/b", "new")
	withBase.Base = fileManifest("x/b", "old").ID
	st := scan.Stat{Size: 9, ModTime: 1e18, Inode: 123456, Ctime: 1e18 + 77}
	tests := []struct {
		name string
		e    Entry
	}{
		{"file, stat like the manifest", Entry{Manifest: exec, Stat: st}},
		{"file, stat of its own", Entry{Manifest: withBase, Stat: scan.Stat{Size: 4, ModTime: 5, Inode: 6, Ctime: 0}}},
		{"empty file", Entry{Manifest: fileManifest("e", ""), Stat: scan.Stat{ModTime: 1e18, Inode: 1, Ctime: 1e18}}},
		{"many pieces", Entry{Manifest: bigManifest("big", 300), Stat: scan.Stat{Size: 300 * manifest.MinPieceSize, Inode: 2}}},
		{"dir", Entry{Manifest: manifest.NewDir("d", 3)}},
		{"file tombstone", Entry{Manifest: manifest.NewTombstone("gone", manifest.KindFile, exec.ID, 9)}},
		{"dir tombstone", Entry{Manifest: manifest.NewTombstone("d2", manifest.KindDir, manifest.DirID(), 9)}},
	}
	for _, tt := range tests {
		rec, err := encodeRecord(&tt.e)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := decodeRecord(tt.e.Manifest.Path, rec)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := got.Manifest.Validate(); err != nil {
			t.Errorf("%s: decoded manifest invalid: %v", tt.name, err)
		}
		a, _ := manifest.Marshal(&tt.e.Manifest)
		b, _ := manifest.Marshal(&got.Manifest)
		if string(a) != string(b) || got.Stat != tt.e.Stat {
			t.Errorf("%s: decoded %+v, want %+v", tt.name, got, tt.e)
		}
		if recordLive(rec) == tt.e.Manifest.Deleted {
			t.Errorf("%s: recordLive = %v", tt.name, recordLive(rec))
		}
	}
	rec, _ := encodeRecord(&tests[0].e)
	if len(rec) > 64 {
		t.Errorf("single-piece file record of %d bytes, want at most 64", len(rec))
	}
}

// TestRecordRejectsCorrupt: a cut record, trailing bytes, a bad piece size
// and a tombstone without base are corrupt, and nothing is allocated for a
// piece count the record cannot hold.
func TestRecordRejectsCorrupt(t *testing.T) {
	e := Entry{Manifest: bigManifest("big", 3), Stat: scan.Stat{Size: 1, Inode: 2}}
	good, err := encodeRecord(&e)
	if err != nil {
		t.Fatal(err)
	}
	tomb, _ := encodeRecord(&Entry{Manifest: manifest.NewTombstone("t", manifest.KindFile, e.Manifest.ID, 1)})
	noBase := append([]byte(nil), tomb...)
	noBase[0] &^= recBase
	noBase = noBase[:9]
	huge := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}
	huge = append(huge, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x80, 0x20) // 4 GiB of 4 KiB pieces, no pieces
	for name, in := range map[string][]byte{
		"empty": {}, "cut in the mtime": good[:5], "cut in the pieces": good[:40], "cut in the stat": good[:len(good)-1],
		"trailing": append(append([]byte(nil), good...), 1), "tombstone without base": noBase, "pieces claimed": huge,
		"bad piece size": {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3},
	} {
		if _, err := decodeRecord("p", in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, e := range []Entry{
		{Manifest: fileManifest("a/b", "data"), Stat: scan.Stat{Size: 4, ModTime: 1e18, Inode: 2, Ctime: 3}},
		{Manifest: manifest.NewDir("d", 1)},
		{Manifest: manifest.NewTombstone("t", manifest.KindFile, manifest.Hash([]byte("x")), 1)},
	} {
		rec, _ := encodeRecord(&e)
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeRecord("a/b", b)
		if err != nil {
			return
		}
		again, err := encodeRecord(&e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := decodeRecord("a/b", again)
		if err != nil || e2.Stat != e.Stat || e2.Manifest.ID != e.Manifest.ID {
			t.Fatalf("re-encoded entry decodes to %+v, %v; want %+v", e2, err, e)
		}
	})
}
