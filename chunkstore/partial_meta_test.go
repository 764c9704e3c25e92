package chunkstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCommitAcrossFilesystems: a state directory on another filesystem
// (tmpfs) cannot rename onto the folder; Commit falls back to one copy.
func TestCommitAcrossFilesystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "chunkstore-test-")
	if err != nil {
		t.Skipf("no tmpfs: %v", err)
	}
	defer os.RemoveAll(shm)
	root := t.TempDir()
	// A synced folder has root/.dartsync (its marker's directory); the copy
	// goes through root/.dartsync/tmp.
	if err := os.Mkdir(filepath.Join(root, ".dartsync"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Open(root, shm, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := randomData(30, 3*testPieceSize+9)
	m := buildManifest("x/y.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Unix(1_700_000_000, 123456789)
	os.Chmod(p.Path(), 0o755)
	os.Chtimes(p.Path(), mtime, mtime)
	target := filepath.Join(root, "x", "y.bin")
	os.MkdirAll(filepath.Dir(target), 0o755)
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, data) || !fi.ModTime().Equal(mtime) || fi.Mode().Perm() != 0o755 {
		t.Errorf("committed across filesystems: equal=%v mtime=%v mode=%v", bytes.Equal(got, data), fi.ModTime(), fi.Mode())
	}
	if _, err := os.Stat(p.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial left behind: %v", err)
	}
	if loc, ok := s.Locate(m.Pieces[1].Hash); !ok || loc.Path != target {
		t.Errorf("Locate after cross-filesystem commit = %+v %v", loc, ok)
	}
}

// TestCommitKeepsMetadata: mode and mtime set on Path() survive Commit, also
// when Commit has to cut junk left past the end by an older run.
func TestCommitKeepsMetadata(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(31, 2*testPieceSize+3)
	m := buildManifest("meta.bin", data, testPieceSize)
	for _, junk := range []bool{false, true} {
		p, err := s.Partial(&m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Pieces {
			if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
				t.Fatal(err)
			}
		}
		if junk {
			p.Close()
			f, _ := os.OpenFile(p.Path(), os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte("junk past the end"))
			f.Close()
			if p, err = s.Partial(&m); err != nil {
				t.Fatal(err)
			}
			if !p.Complete() {
				t.Fatal("resumed complete partial with junk is not complete")
			}
		}
		mtime := time.Unix(1_600_000_000, 987654321)
		os.Chmod(p.Path(), 0o700)
		os.Chtimes(p.Path(), mtime, mtime)
		target := filepath.Join(root, "meta.bin")
		if err := p.Commit(target); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(target)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(target)
		if !bytes.Equal(got, data) || !fi.ModTime().Equal(mtime) || fi.Mode().Perm() != 0o700 {
			t.Errorf("junk=%v: equal=%v mtime=%v mode=%v", junk, bytes.Equal(got, data), fi.ModTime(), fi.Mode())
		}
	}
}
