package chunkstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// stampedManifest is buildManifest with the file's current modification
// time, as the folder scan records it.
func stampedManifest(t *testing.T, root, rel string, data []byte) manifest.Manifest {
	t.Helper()
	fi, err := os.Stat(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	m := buildManifest(rel, data, testPieceSize)
	m.ModTime = fi.ModTime().UnixNano()
	return m
}

// TestReadPieceForUpload checks when the uploader's read trusts the
// recorded stamp and when it hashes: an in-place edit that keeps size and
// modification time is served as is (the one case the requester has to
// catch), any other edit is detected like ReadPiece does.
func TestReadPieceForUpload(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(21, 3*testPieceSize)
	writeFile(t, root, "f", data)
	m := stampedManifest(t, root, "f", data)
	if err := s.AddFile(&m); err != nil {
		t.Fatal(err)
	}
	h := m.Pieces[1].Hash
	got, err := s.ReadPieceForUpload(h, nil)
	if err != nil || !bytes.Equal(got, piece(data, testPieceSize, 1)) {
		t.Fatalf("ReadPieceForUpload of an unchanged file: %v", err)
	}

	// Same size, same mtime, other bytes: trusted, so not hashed.
	abs := filepath.Join(root, "f")
	edited := append([]byte(nil), data...)
	edited[testPieceSize+7] ^= 0x55
	writeFile(t, root, "f", edited)
	mt := time.Unix(0, m.ModTime)
	if err := os.Chtimes(abs, mt, mt); err != nil {
		t.Fatal(err)
	}
	got, err = s.ReadPieceForUpload(h, nil)
	if err != nil || !bytes.Equal(got, piece(edited, testPieceSize, 1)) {
		t.Fatalf("ReadPieceForUpload with the stamp intact = %v; want the file's bytes unhashed", err)
	}
	// ReadPiece always hashes: it finds the edit and drops the location.
	if _, err := s.ReadPiece(h, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadPiece of an edited piece = %v, want ErrNotFound", err)
	}

	// A new modification time: the stamp no longer holds, the bytes are hashed.
	h0 := m.Pieces[0].Hash
	h2 := m.Pieces[2].Hash
	edited[2*testPieceSize] ^= 0x55
	writeFile(t, root, "f", edited)
	if err := os.Chtimes(abs, mt.Add(time.Second), mt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadPieceForUpload(h2, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadPieceForUpload after an edit with a new mtime = %v, want ErrNotFound", err)
	}
	if got, err := s.ReadPieceForUpload(h0, nil); err != nil || !bytes.Equal(got, piece(data, testPieceSize, 0)) {
		t.Fatalf("unchanged piece of an edited file: %v", err)
	}
}

// TestReadPieceForUploadUnstamped: a file indexed without a modification
// time, or re-indexed, is hashed on every read.
func TestReadPieceForUploadUnstamped(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(22, 2*testPieceSize)
	writeFile(t, root, "g", data)
	m := buildManifest("g", data, testPieceSize) // ModTime 0: no stamp
	if err := s.AddFile(&m); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "g"))
	if err != nil {
		t.Fatal(err)
	}
	edited := append([]byte(nil), data...)
	edited[3] ^= 1
	writeFile(t, root, "g", edited)
	if err := os.Chtimes(filepath.Join(root, "g"), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadPieceForUpload(m.Pieces[0].Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unstamped edited piece = %v, want ErrNotFound", err)
	}
	if _, err := s.ReadPieceForUpload(m.Pieces[1].Hash, nil); err != nil {
		t.Fatalf("unstamped intact piece: %v", err)
	}
}

// TestCommitStamps: a committed partial whose modification time was set
// to the manifest's is trusted like a scanned file.
func TestCommitStamps(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(23, 2*testPieceSize+9)
	m := buildManifest("in/c", data, testPieceSize)
	m.ModTime = time.Date(2025, 3, 4, 5, 6, 7, 8000, time.UTC).UnixNano()
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	mt := time.Unix(0, m.ModTime)
	if err := os.Chtimes(p.Path(), mt, mt); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(root, "in", "c")
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(abs); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(abs, mt, mt); err != nil {
		t.Fatal(err)
	}
	edited := append([]byte(nil), data...)
	edited[testPieceSize] ^= 1
	writeFile(t, root, "in/c", edited)
	if err := os.Chtimes(abs, mt, mt); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadPieceForUpload(m.Pieces[1].Hash, nil)
	if err != nil || !bytes.Equal(got, piece(edited, testPieceSize, 1)) {
		t.Fatalf("committed file not trusted by its stamp: %v", err)
	}
}
