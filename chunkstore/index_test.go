package chunkstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestAddFileLocateRead(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(10, 1000*testPieceSize-5) // 1000 pieces in one transaction
	writeFile(t, root, "big.bin", data)
	m := buildManifest("big.bin", data, testPieceSize)
	if err := s.AddFile(&m); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, testPieceSize)
	for _, i := range []int{0, 1, 500, 999} {
		got, err := s.ReadPiece(m.Pieces[i].Hash, buf)
		if err != nil || !bytes.Equal(got, piece(data, testPieceSize, i)) {
			t.Fatalf("ReadPiece(%d): %v", i, err)
		}
	}
	if err := s.RemoveFile("big.bin"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Locate(m.Pieces[0].Hash); ok {
		t.Error("piece of a removed file still located")
	}
	if err := s.RemoveFile("never/indexed"); err != nil {
		t.Errorf("RemoveFile of unknown path: %v", err)
	}
}

func TestReadPieceStale(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(11, 3*testPieceSize)
	writeFile(t, root, "a", data)
	writeFile(t, root, "b/copy", data)
	ma := buildManifest("a", data, testPieceSize)
	mb := buildManifest("b/copy", data, testPieceSize)
	if err := s.AddFiles([]*manifest.Manifest{&ma, &mb}); err != nil {
		t.Fatal(err)
	}
	h := ma.Pieces[1].Hash

	// Edit a: the location in a is stale, b still serves the piece.
	edited := append([]byte(nil), data...)
	edited[testPieceSize+3] ^= 0xff
	writeFile(t, root, "a", edited)
	got, err := s.ReadPiece(h, nil)
	if err != nil || !bytes.Equal(got, piece(data, testPieceSize, 1)) {
		t.Fatalf("ReadPiece with one stale location: %v", err)
	}
	if loc, ok := s.Locate(h); !ok || loc.Path != filepath.Join(root, "b", "copy") {
		t.Errorf("after the stale read, Locate = %+v %v; want only b/copy", loc, ok)
	}

	// Truncate b: nothing left.
	if err := os.Truncate(filepath.Join(root, "b", "copy"), testPieceSize); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadPiece(h, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPiece with no valid location = %v, want ErrNotFound", err)
	}
	if _, ok := s.Locate(h); ok {
		t.Error("stale locations not dropped")
	}
	// Piece 0 of b is still intact; piece 0 of a is too (only piece 1 was edited).
	if _, err := s.ReadPiece(ma.Pieces[0].Hash, nil); err != nil {
		t.Errorf("intact piece: %v", err)
	}
	// A removed file.
	os.Remove(filepath.Join(root, "a"))
	os.Remove(filepath.Join(root, "b", "copy"))
	if _, err := s.ReadPiece(ma.Pieces[0].Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPiece of deleted files = %v, want ErrNotFound", err)
	}
	if _, err := s.ReadPiece(manifest.Hash([]byte("never stored")), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPiece of unknown hash = %v, want ErrNotFound", err)
	}
}

func TestAddFileErrors(t *testing.T) {
	s := openStore(t, t.TempDir())
	good := buildManifest("ok", randomData(12, 10), testPieceSize)
	bad := good
	bad.Path = "../escape"
	state := good
	state.Path = ".dartsync/chunks.db"
	dir := manifest.NewDir("d", 0)
	tests := []struct {
		name    string
		m       *manifest.Manifest
		wantErr error
	}{
		{"good", &good, nil},
		{"dotdot path", &bad, ErrBadManifest},
		{"state dir", &state, ErrBadManifest},
		{"directory", &dir, ErrBadManifest},
	}
	for _, tt := range tests {
		err := s.AddFile(tt.m)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: AddFile = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	s.Close()
	if err := s.AddFile(&good); !errors.Is(err, ErrClosed) {
		t.Errorf("AddFile after Close = %v, want ErrClosed", err)
	}
	if _, err := s.ReadPiece(good.Pieces[0].Hash, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadPiece after Close = %v, want ErrClosed", err)
	}
}

// TestGroupCommit: concurrent writers are coalesced but each sees its own
// result.
func TestGroupCommit(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	var wg sync.WaitGroup
	ms := make([]manifest.Manifest, 32)
	for i := range ms {
		ms[i] = buildManifest(fmt.Sprintf("f%02d", i), randomData(uint64(100+i), 100), testPieceSize)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AddFile(&ms[i]); err != nil {
				t.Error(err)
			}
			bad := ms[i]
			bad.Path = "/abs"
			if err := s.AddFile(&bad); !errors.Is(err, ErrBadManifest) {
				t.Errorf("bad AddFile in a group = %v", err)
			}
		}()
	}
	wg.Wait()
	for i := range ms {
		if loc, ok := s.Locate(ms[i].Pieces[0].Hash); !ok || loc.Path != filepath.Join(root, ms[i].Path) {
			t.Errorf("file %d not indexed: %+v %v", i, loc, ok)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	if _, err := Open(root, "", nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	s2 := openStore(t, root) // the lock is released
	s2.Close()
}
