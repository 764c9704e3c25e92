package chunkstore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// The golden schema 1 database (testdata/chunks-v1.db.gz) was written by
// the bbolt version of this package: AddFiles of a.txt, dir/b.bin,
// dir/c.bin; AddFile then RemoveFile of gone.txt; a partial of d.bin with
// pieces 0 and 2 written and closed. These are its files, byte for byte.
type goldenFolder struct {
	a, b, c, e, d manifest.Manifest
	dd            []byte
}

func golden() goldenFolder {
	var g goldenFolder
	g.a = buildManifest("a.txt", randomData(101, 3000), testPieceSize)
	g.a.ModTime = 1_700_000_000_123_456_789
	g.b = buildManifest("dir/b.bin", randomData(102, 3*testPieceSize-5), testPieceSize)
	g.b.ModTime = 1_700_000_001_000_000_000
	g.c = buildManifest("dir/c.bin", randomData(101, 3000), testPieceSize)
	g.e = buildManifest("gone.txt", randomData(103, 100), testPieceSize)
	g.dd = randomData(104, 4*testPieceSize)
	g.d = buildManifest("d.bin", g.dd, testPieceSize)
	return g
}

// setupGolden makes a folder and state directory as the old version left
// them: the files, the partial file and chunks.db.
func setupGolden(t *testing.T) (root, state string, g goldenFolder) {
	t.Helper()
	g = golden()
	root = t.TempDir()
	state = filepath.Join(root, ".dartsync")
	writeFile(t, root, "a.txt", randomData(101, 3000))
	writeFile(t, root, "dir/b.bin", randomData(102, 3*testPieceSize-5))
	writeFile(t, root, "dir/c.bin", randomData(101, 3000))
	for _, m := range []*manifest.Manifest{&g.a, &g.b} {
		mt := time.Unix(0, m.ModTime)
		if err := os.Chtimes(filepath.Join(root, m.Path), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	part := make([]byte, 3*testPieceSize) // pieces 0 and 2 written, file as long as its last write
	copy(part, piece(g.dd, testPieceSize, 0))
	copy(part[2*testPieceSize:], piece(g.dd, testPieceSize, 2))
	writeFile(t, state, "partial/"+g.d.ID.String()+".part", part)
	restoreGoldenDB(t, state)
	return root, state, g
}

func restoreGoldenDB(t *testing.T, state string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "chunks-v1.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "chunks.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkGolden checks that s holds everything the golden database did.
func checkGolden(t *testing.T, s *Store, state string, g goldenFolder) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(state, "chunks.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("chunks.db after the migration: %v", err)
	}
	for _, m := range []*manifest.Manifest{&g.a, &g.b} {
		for i := range m.Pieces {
			if _, err := s.ReadPiece(m.Pieces[i].Hash, nil); err != nil {
				t.Errorf("piece %d of %s: %v", i, m.Path, err)
			}
		}
	}
	locs, err := s.locations(g.a.Pieces[0].Hash)
	if err != nil || len(locs) != 2 {
		t.Fatalf("locations of a.txt's piece (also dir/c.bin's): %+v %v", locs, err)
	}
	for _, l := range locs {
		wantStamp := filepath.Base(l.Path) == "a.txt"
		if l.stamped != wantStamp || (wantStamp && (l.mtime != g.a.ModTime || l.size != g.a.Size)) {
			t.Errorf("location %s: stamped %v (%d, %d), want %v", l.Path, l.stamped, l.size, l.mtime, wantStamp)
		}
	}
	if _, err := s.ReadPiece(g.e.Pieces[0].Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("piece of the removed gone.txt: %v, want ErrNotFound", err)
	}
	if bits, ok := s.Held(g.d.ID, 4); !ok || !bytes.Equal(bits, []byte{0b0101}) {
		t.Errorf("Held of the partial = %08b %v, want 00000101", bits, ok)
	}
	p, err := s.Partial(&g.d)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Missing(); len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("resumed partial misses %v, want [1 3]", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFromBbolt(t *testing.T) {
	root, state, g := setupGolden(t)
	s, err := Open(root, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkGolden(t, s, state, g)
	// New refs never reuse an old one (the old sequence went up to 5).
	f := buildManifest("new.txt", []byte("new"), testPieceSize)
	if err := s.AddFile(&f); err != nil {
		t.Fatal(err)
	}
	locs, err := s.locations(f.Pieces[0].Hash)
	if err != nil || len(locs) != 1 || locs[0].ref <= 5 {
		t.Fatalf("new file's location: %+v %v", locs, err)
	}
}

// A migration that stops after any number of records (a crash: its batches
// were not synced, and no version record) is redone at the next open.
func TestMigrateInterrupted(t *testing.T) {
	for stop := 1; ; stop++ {
		root, state, g := setupGolden(t)
		d, err := openDB(state, nil, slog.New(slog.DiscardHandler), migrateOptions{batch: 2, stopAfter: stop})
		if err == nil {
			d.Close()
			if stop < 3 {
				t.Fatalf("the golden database has more than %d records", stop)
			}
			return // stop is past the last record: the migration finished
		}
		if !errors.Is(err, errInterrupted) {
			t.Fatalf("stop after %d: %v", stop, err)
		}
		if _, err := os.Stat(filepath.Join(state, "chunks.db")); err != nil {
			t.Fatalf("stop after %d: chunks.db removed before the migration ended: %v", stop, err)
		}
		s, err := Open(root, state, nil)
		if err != nil {
			t.Fatalf("stop after %d: reopen: %v", stop, err)
		}
		checkGolden(t, s, state, g)
		s.Close()
	}
}

// A crash after the version record but before chunks.db was removed: the
// next open removes it and copies nothing again (later writes stay).
func TestMigrateDoneButOldFileLeft(t *testing.T) {
	root, state, g := setupGolden(t)
	s, err := Open(root, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFile("a.txt"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	restoreGoldenDB(t, state)
	s, err = Open(root, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(state, "chunks.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("chunks.db left: %v", err)
	}
	if locs, err := s.locations(g.a.Pieces[0].Hash); err != nil || len(locs) != 1 || filepath.Base(locs[0].Path) != "c.bin" {
		t.Errorf("a.txt's piece after the reopen: %+v %v (the old records were copied again)", locs, err)
	}
}
