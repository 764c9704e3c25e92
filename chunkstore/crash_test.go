package chunkstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The crash test's writer runs in a child process (this test binary,
// re-executed) so that it can be SIGKILLed: no Close, no deferred cleanup, no
// flush, exactly as a killed peer.
const crashEnv = "CHUNKSTORE_CRASH_ROOT"

var (
	crashSynced   = []int{0, 1, 2, 5, 10, 39} // written, then Sync: durable
	crashUnsynced = []int{20, 21}             // written after the Sync: in the page cache only
)

func crashData() []byte { return randomData(42, 39*testPieceSize+123) }

// crashWriter is the child's side.
func crashWriter(root string) error {
	s, err := Open(root, "", nil)
	if err != nil {
		return err
	}
	data := crashData()
	m := buildManifest("crash/file.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		return err
	}
	for _, i := range crashSynced {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			return err
		}
	}
	if err := p.Sync(); err != nil {
		return err
	}
	for _, i := range crashUnsynced {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			return err
		}
	}
	fmt.Println("READY")
	time.Sleep(time.Minute) // killed long before
	return errors.New("not killed")
}

func TestKilledAndReopened(t *testing.T) {
	if root := os.Getenv(crashEnv); root != "" {
		if err := crashWriter(root); err != nil {
			fmt.Println("ERROR", err)
		}
		return
	}
	root := t.TempDir()
	killWhenReady(t, "TestKilledAndReopened", crashEnv, root)

	data := crashData()
	m := buildManifest("crash/file.bin", data, testPieceSize)
	s := openStore(t, root)

	// Durable pieces are known before the partial is even opened; pieces
	// written after the last Sync were never recorded.
	for _, i := range crashSynced {
		got, err := s.ReadPiece(m.Pieces[i].Hash, nil)
		if err != nil || !bytes.Equal(got, piece(data, testPieceSize, i)) {
			t.Errorf("synced piece %d after the kill: ReadPiece = %v", i, err)
		}
	}
	for _, i := range crashUnsynced {
		if _, ok := s.Locate(m.Pieces[i].Hash); ok {
			t.Errorf("piece %d was recorded although written after the last Sync", i)
		}
	}

	// Resume: present pieces are the synced ones plus the unsynced ones that
	// the re-hash finds intact (the kernel kept them: only the process died).
	present := slices.Sorted(slices.Values(append(slices.Clone(crashSynced), crashUnsynced...)))
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if got := havePieces(p); !slices.Equal(got, present) {
		t.Fatalf("after kill and resume, present pieces = %v, want %v", got, present)
	}
	if _, ok := s.Locate(m.Pieces[20].Hash); !ok {
		t.Error("piece adopted on resume was not recorded")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Corrupt two recorded pieces on disk behind the store's back.
	partPath := filepath.Join(root, ".dartsync", "partial", m.ID.String()+".part")
	f, err := os.OpenFile(partPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{2, 20} {
		if _, err := f.WriteAt([]byte{^data[i*testPieceSize+7]}, int64(i*testPieceSize+7)); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	s = openStore(t, root)
	defer s.Close()
	// Served pieces are verified: the corrupt one is not served.
	if _, err := s.ReadPiece(m.Pieces[2].Hash, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPiece of a corrupted piece = %v, want ErrNotFound", err)
	}
	p, err = s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	present = slices.DeleteFunc(present, func(i int) bool { return i == 2 || i == 20 })
	if got := havePieces(p); !slices.Equal(got, present) {
		t.Fatalf("after corruption, present pieces = %v, want %v", got, present)
	}
	if _, ok := s.Locate(m.Pieces[20].Hash); ok {
		t.Error("corrupted piece still locatable after resume")
	}

	// Finish the download with only the missing pieces.
	for _, i := range p.Missing() {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(root, "crash", "file.bin")
	os.MkdirAll(filepath.Dir(target), 0o755)
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, data) {
		t.Fatal("resumed download differs from the original")
	}
}

func havePieces(p *Partial) []int {
	var out []int
	for i := range p.Manifest().Pieces {
		if p.Have(i) {
			out = append(out, i)
		}
	}
	return out
}
