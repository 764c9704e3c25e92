package chunkstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// fillPartial opens the partial of m and writes every piece of data.
func fillPartial(t testing.TB, s *Store, m *manifest.Manifest, data []byte) *Partial {
	t.Helper()
	p, err := s.Partial(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		if err := p.WritePiece(i, piece(data, m.PieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestSeal(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(7, 3*testPieceSize+5)
	m := buildManifest("f.bin", data, testPieceSize)

	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WritePiece(0, piece(data, testPieceSize, 0)); err != nil {
		t.Fatal(err)
	}
	if err := p.Seal(); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Seal of an incomplete partial = %v, want ErrIncomplete", err)
	}
	for _, i := range p.Missing() {
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := p.Seal(); err != nil {
		t.Errorf("second Seal = %v, want nil", err)
	}
	if err := p.WritePiece(1, piece(data, testPieceSize, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePiece after Seal = %v, want ErrClosed", err)
	}
	if _, err := s.Partial(&m); !errors.Is(err, ErrBusy) {
		t.Errorf("Partial of a sealed partial = %v, want ErrBusy", err)
	}
	// Closed without a commit (the target was edited meanwhile): it stays
	// resumable, complete, and its pieces are locatable.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Locate(m.Pieces[2].Hash); !ok {
		t.Error("pieces of a sealed, closed partial are not recorded")
	}
	p, err = s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Complete() {
		t.Fatalf("resumed sealed partial misses %v", p.Missing())
	}
	target := filepath.Join(root, "f.bin")
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, data) {
		t.Error("committed file differs")
	}
}

func TestCommitBatch(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	type file struct {
		rel  string
		data []byte
	}
	files := []file{
		{"a/one.bin", randomData(1, 100)},
		{"a/two.bin", randomData(2, 2*testPieceSize+1)},
		{"new/deep/dir/three.bin", randomData(3, testPieceSize)},
		{"empty.bin", nil},
		{"old.bin", randomData(4, 50)}, // replaces an indexed file
	}
	old := randomData(5, 70)
	writeFile(t, root, "old.bin", old)
	om := buildManifest("old.bin", old, testPieceSize)
	if err := s.AddFile(&om); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "new", "deep", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := s.NewCommitBatch()
	for _, f := range files {
		m := buildManifest(f.rel, f.data, testPieceSize)
		p := fillPartial(t, s, &m, f.data)
		if err := b.Rename(p, filepath.Join(root, filepath.FromSlash(f.rel))); err == nil {
			t.Fatalf("Rename of an unsealed partial of %s succeeded", f.rel)
		}
		if err := p.Seal(); err != nil {
			t.Fatal(err)
		}
		if err := b.Rename(p, filepath.Join(root, filepath.FromSlash(f.rel))); err != nil {
			t.Fatal(err)
		}
		// Renamed but not finished: the partial is still busy.
		if _, err := s.Partial(&m); !errors.Is(err, ErrBusy) {
			t.Errorf("%s: Partial before Finish = %v, want ErrBusy", f.rel, err)
		}
	}
	if b.Len() != len(files) {
		t.Fatalf("Len = %d, want %d", b.Len(), len(files))
	}
	if bad := b.Finish(); len(bad) != 0 {
		t.Fatalf("Finish: %v", bad)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.rel)))
		if err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("%s: content after commit differs (err %v)", f.rel, err)
		}
		m := buildManifest(f.rel, f.data, testPieceSize)
		for i := range m.Pieces {
			l, ok := s.Locate(m.Pieces[i].Hash)
			if !ok || l.Path != filepath.Join(root, filepath.FromSlash(f.rel)) {
				t.Errorf("%s piece %d located at %+v (%v), want the committed file", f.rel, i, l, ok)
			}
		}
		if _, err := os.Stat(s.paths.partialPath(m.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: partial file still there: %v", f.rel, err)
		}
		p, err := s.Partial(&m) // forgotten: a fresh partial
		if err != nil {
			t.Fatalf("%s: Partial after Finish: %v", f.rel, err)
		}
		if len(m.Pieces) > 0 && p.Complete() {
			t.Errorf("%s: a new partial of a committed version is complete", f.rel)
		}
		p.Discard()
	}
	if _, ok := s.Locate(om.Pieces[0].Hash); ok {
		t.Error("the replaced file's pieces are still indexed")
	}
	// Every new directory's entry was made durable: its parent was synced.
	for _, d := range []string{"a", "new", "new/deep", "new/deep/dir"} {
		abs := filepath.Join(root, filepath.FromSlash(d))
		id, err := statDirID(abs)
		if err != nil {
			t.Fatal(err)
		}
		if !s.dirs.knownDurable(abs, id) {
			t.Errorf("directory %s not known durable after Finish", d)
		}
	}
	// A directory removed and made again is a new one: not known durable.
	if err := os.RemoveAll(filepath.Join(root, "new", "deep")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "new", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := statDirID(filepath.Join(root, "new", "deep"))
	if err != nil {
		t.Fatal(err)
	}
	if s.dirs.knownDurable(filepath.Join(root, "new", "deep"), id) {
		t.Error("a directory made again is taken for the old, durable one")
	}
	if bad := b.Finish(); bad != nil {
		t.Errorf("second Finish = %v, want nil", bad)
	}
	if err := b.Rename(nil, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Rename after Finish = %v, want ErrClosed", err)
	}
}

func TestCommitBatchRenameFails(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(9, 2*testPieceSize)
	m := buildManifest("x/f.bin", data, testPieceSize)
	p := fillPartial(t, s, &m, data)
	if err := p.Seal(); err != nil {
		t.Fatal(err)
	}
	b := s.NewCommitBatch()
	// x does not exist: the rename fails and the partial stays resumable.
	if err := b.Rename(p, filepath.Join(root, "x", "f.bin")); err == nil {
		t.Fatal("Rename into a missing directory succeeded")
	}
	if bad := b.Finish(); len(bad) != 0 {
		t.Fatalf("Finish: %v", bad)
	}
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Complete() {
		t.Errorf("partial after a failed rename misses %v", p.Missing())
	}
}

// The batch crash test's child: it seals three partials, renames two in a
// batch, and is killed before Finish; a fourth file is only half written.
const batchCrashEnv = "CHUNKSTORE_BATCH_CRASH_ROOT"

func batchCrashFiles() map[string][]byte {
	return map[string][]byte{
		"d/renamed1.bin": randomData(11, 3*testPieceSize),
		"d/renamed2.bin": randomData(12, 100),
		"d/sealed.bin":   randomData(13, 2*testPieceSize+7),
		"d/half.bin":     randomData(14, 4*testPieceSize),
	}
}

func batchCrashWriter(root string) error {
	s, err := Open(root, "", nil)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "d"), 0o755); err != nil {
		return err
	}
	files := batchCrashFiles()
	b := s.NewCommitBatch()
	for _, rel := range []string{"d/renamed1.bin", "d/renamed2.bin", "d/sealed.bin", "d/half.bin"} {
		data := files[rel]
		m := buildManifest(rel, data, testPieceSize)
		p, err := s.Partial(&m)
		if err != nil {
			return err
		}
		for i := range m.Pieces {
			if rel == "d/half.bin" && i >= 2 {
				break
			}
			if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
				return err
			}
		}
		if rel == "d/half.bin" {
			continue
		}
		if err := p.Seal(); err != nil {
			return err
		}
		if rel != "d/sealed.bin" {
			if err := b.Rename(p, filepath.Join(root, filepath.FromSlash(rel))); err != nil {
				return err
			}
		}
	}
	fmt.Println("READY")
	time.Sleep(time.Minute) // killed long before
	return errors.New("not killed")
}

// TestBatchKilledBeforeFinish: a process killed in the middle of a batch
// leaves every target either absent or complete, never half written, and
// the partials not renamed resume with what they hold.
func TestBatchKilledBeforeFinish(t *testing.T) {
	if root := os.Getenv(batchCrashEnv); root != "" {
		if err := batchCrashWriter(root); err != nil {
			fmt.Println("ERROR", err)
		}
		return
	}
	root := t.TempDir()
	killWhenReady(t, "TestBatchKilledBeforeFinish", batchCrashEnv, root)
	files := batchCrashFiles()
	tests := []struct {
		rel      string
		inPlace  bool // complete at its target
		complete bool // else: the partial resumes complete
	}{
		{"d/renamed1.bin", true, false},
		{"d/renamed2.bin", true, false},
		{"d/sealed.bin", false, true},
		{"d/half.bin", false, false},
	}
	s := openStore(t, root)
	defer s.Close()
	for _, tt := range tests {
		data := files[tt.rel]
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tt.rel)))
		switch {
		case tt.inPlace && (err != nil || !bytes.Equal(got, data)):
			t.Errorf("%s: not complete in place after the kill (err %v, %d bytes)", tt.rel, err, len(got))
		case !tt.inPlace && !errors.Is(err, os.ErrNotExist):
			t.Errorf("%s: something is in place after the kill: err %v, %d bytes", tt.rel, err, len(got))
		}
		if tt.inPlace {
			continue
		}
		m := buildManifest(tt.rel, data, testPieceSize)
		p, err := s.Partial(&m)
		if err != nil {
			t.Fatal(err)
		}
		if p.Complete() != tt.complete {
			t.Errorf("%s: resumed complete = %v, want %v (missing %v)", tt.rel, p.Complete(), tt.complete, p.Missing())
		}
		if tt.rel == "d/half.bin" && len(p.Missing()) != 2 {
			t.Errorf("%s: resumed partial misses %v, want the 2 unwritten pieces", tt.rel, p.Missing())
		}
		p.Close()
	}
}
