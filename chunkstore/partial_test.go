package chunkstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestWritePieceErrors(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(1, 5*testPieceSize+100)
	m := buildManifest("f.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	last := len(m.Pieces) - 1
	tests := []struct {
		name    string
		i       int
		data    []byte
		wantErr error
	}{
		{"first piece", 0, piece(data, testPieceSize, 0), nil},
		{"same piece again", 0, piece(data, testPieceSize, 0), nil},
		{"short last piece", last, piece(data, testPieceSize, last), nil},
		{"bytes of another piece", 1, piece(data, testPieceSize, 2), ErrBadPiece},
		{"one bit flipped", 3, flip(piece(data, testPieceSize, 3)), ErrBadPiece},
		{"too short", 1, piece(data, testPieceSize, 1)[:10], ErrBadPiece},
		{"last piece full length", last, make([]byte, testPieceSize), ErrBadPiece},
		{"empty", 2, nil, ErrBadPiece},
		{"index -1", -1, piece(data, testPieceSize, 0), ErrPieceIndex},
		{"index past end", last + 1, piece(data, testPieceSize, 0), ErrPieceIndex},
	}
	for _, tt := range tests {
		err := p.WritePiece(tt.i, tt.data)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: WritePiece(%d) = %v, want %v", tt.name, tt.i, err, tt.wantErr)
		}
	}
	if err := p.WriteVerifiedPiece(4, piece(data, testPieceSize, 4)[1:]); !errors.Is(err, ErrBadPiece) {
		t.Errorf("WriteVerifiedPiece of a short piece = %v, want ErrBadPiece", err)
	}
	if err := p.WriteVerifiedPiece(-1, nil); !errors.Is(err, ErrPieceIndex) {
		t.Errorf("WriteVerifiedPiece(-1) = %v, want ErrPieceIndex", err)
	}
	if got, want := p.Missing(), []int{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("Missing() = %v, want %v", got, want)
	}
	if p.Have(1) || !p.Have(0) || !p.Have(last) || p.Have(-1) || p.Have(last+1) {
		t.Errorf("Have disagrees with Missing")
	}
	if err := p.Commit(filepath.Join(root, "f.bin")); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Commit of incomplete partial = %v, want ErrIncomplete", err)
	}
	// The failed Commit must not have closed the partial.
	if err := p.WritePiece(1, piece(data, testPieceSize, 1)); err != nil {
		t.Errorf("WritePiece after refused Commit: %v", err)
	}
	if err := p.WriteVerifiedPiece(4, piece(data, testPieceSize, 4)); err != nil || !p.Have(4) {
		t.Errorf("WriteVerifiedPiece: %v", err)
	}
}

func flip(b []byte) []byte {
	c := slices.Clone(b)
	c[len(c)/2] ^= 1
	return c
}

func TestPartialBadManifest(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	good := buildManifest("a", randomData(2, 3*testPieceSize), testPieceSize)
	mod := func(f func(m *manifest.Manifest)) *manifest.Manifest {
		m := good
		m.Pieces = slices.Clone(good.Pieces)
		f(&m)
		return &m
	}
	tests := []struct {
		name    string
		m       *manifest.Manifest
		wantErr error
	}{
		{"good", &good, nil},
		{"nil", nil, ErrBadManifest},
		{"directory", mod(func(m *manifest.Manifest) { *m = manifest.NewDir("d", 0) }), ErrBadManifest},
		{"tombstone", mod(func(m *manifest.Manifest) { m.Deleted = true }), ErrBadManifest},
		{"missing piece", mod(func(m *manifest.Manifest) { m.Pieces = m.Pieces[:2] }), ErrBadManifest},
		{"wrong file ID", mod(func(m *manifest.Manifest) { m.ID[0] ^= 1 }), ErrBadManifest},
		{"piece size too small", mod(func(m *manifest.Manifest) { m.PieceSize = 1 }), ErrBadManifest},
		{"negative size", mod(func(m *manifest.Manifest) { m.Size = -1 }), ErrBadManifest},
	}
	for _, tt := range tests {
		p, err := s.Partial(tt.m)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: Partial = %v, want %v", tt.name, err, tt.wantErr)
		}
		if p != nil {
			if _, err := s.Partial(tt.m); !errors.Is(err, ErrBusy) {
				t.Errorf("%s: second Partial of the same file ID = %v, want ErrBusy", tt.name, err)
			}
			p.Discard()
		}
	}
}

func TestPartialCommit(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(3, 7*testPieceSize+1)
	m := buildManifest("dir/naïve file.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if p.Complete() {
		t.Fatal("new partial reports complete")
	}
	for _, i := range []int{7, 3, 0, 5, 1, 2, 6, 4} { // out of order
		if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
			t.Fatalf("WritePiece(%d): %v", i, err)
		}
	}
	if !p.Complete() || len(p.Missing()) != 0 {
		t.Fatalf("Complete=%v Missing=%v after writing every piece", p.Complete(), p.Missing())
	}
	partPath := p.Path()
	target := filepath.Join(root, "dir", "naïve file.bin")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "dir/naïve file.bin", []byte("old version")) // overwritten by the rename
	if err := p.Commit(target); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("committed file: err=%v, content equal=%v", err, bytes.Equal(got, data))
	}
	if _, err := os.Stat(partPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial file still exists after Commit: %v", err)
	}
	if err := p.WritePiece(0, piece(data, testPieceSize, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePiece after Commit = %v, want ErrClosed", err)
	}
	for i := range m.Pieces {
		loc, ok := s.Locate(m.Pieces[i].Hash)
		if !ok || loc.Path != target || loc.Offset != m.PieceOffset(i) || loc.Length != m.PieceLen(i) {
			t.Fatalf("Locate(piece %d) = %+v, %v; want %s+%d", i, loc, ok, target, m.PieceOffset(i))
		}
		b, err := s.ReadPiece(m.Pieces[i].Hash, nil)
		if err != nil || !bytes.Equal(b, piece(data, testPieceSize, i)) {
			t.Fatalf("ReadPiece(piece %d): %v", i, err)
		}
	}
	// The same file ID can be downloaded again (e.g. to a second path).
	p2, err := s.Partial(&m)
	if err != nil {
		t.Fatalf("Partial after Commit: %v", err)
	}
	n, nb, err := p2.CopyLocal(context.Background())
	if err != nil || n != len(m.Pieces) || nb != m.Size || !p2.Complete() {
		t.Fatalf("CopyLocal = %d pieces, %d bytes, %v; complete=%v", n, nb, err, p2.Complete())
	}
	copyTarget := filepath.Join(root, "copy.bin")
	if err := p2.Commit(copyTarget); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(copyTarget); !bytes.Equal(got, data) {
		t.Fatal("copy made by CopyLocal differs")
	}
}

func TestPartialEmptyAndDuplicatePieces(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()

	empty := buildManifest("empty", nil, testPieceSize)
	p, err := s.Partial(&empty)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Complete() {
		t.Fatal("empty file partial not complete")
	}
	if err := p.Commit(filepath.Join(root, "empty")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, "empty")); err != nil || fi.Size() != 0 {
		t.Fatalf("empty file: %v", err)
	}

	// Four identical pieces and a different tail: one write fills all four.
	data := append(make([]byte, 4*testPieceSize), 'x')
	m := buildManifest("zeros", data, testPieceSize)
	p, err = s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WritePiece(2, make([]byte, testPieceSize)); err != nil {
		t.Fatal(err)
	}
	if got := p.Missing(); !slices.Equal(got, []int{4}) {
		t.Fatalf("Missing after writing one of four identical pieces = %v, want [4]", got)
	}
	if err := p.WritePiece(4, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(filepath.Join(root, "zeros")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "zeros")); !bytes.Equal(got, data) {
		t.Fatal("file with duplicate pieces differs")
	}
}

func TestPartialDiscard(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(4, 3*testPieceSize)
	m := buildManifest("d", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WritePiece(1, piece(data, testPieceSize, 1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Locate(m.Pieces[1].Hash); !ok {
		t.Fatal("synced partial piece not locatable")
	}
	if err := p.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Locate(m.Pieces[1].Hash); ok {
		t.Error("discarded partial piece still locatable")
	}
	if _, err := os.Stat(p.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial file after Discard: %v", err)
	}
	p, err = s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(p.Missing()) != 3 {
		t.Errorf("partial after Discard resumed %v missing, want all 3", p.Missing())
	}
}

// TestPartialConcurrent writes pieces from several goroutines while others
// read the synced ones back (run with -race).
func TestPartialConcurrent(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(5, 64*testPieceSize+7)
	m := buildManifest("c", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(m.Pieces); i += 2 { // overlapping: each piece written by two workers
				if err := p.WritePiece(i, piece(data, testPieceSize, i)); err != nil {
					errs <- err
				}
				if i%8 == 0 {
					if err := p.Sync(); err != nil {
						errs <- err
					}
					if b, err := s.ReadPiece(m.Pieces[i].Hash, nil); err != nil || !bytes.Equal(b, piece(data, testPieceSize, i)) {
						errs <- errors.Join(errors.New("read back synced piece"), err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := p.Commit(filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "c")); !bytes.Equal(got, data) {
		t.Fatal("concurrently written file differs")
	}
}

func TestPartialsAndDiscardPartial(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	var ms []manifest.Manifest
	for i := range 3 {
		data := randomData(uint64(20+i), 2*testPieceSize)
		m := buildManifest(fmt.Sprintf("p%d", i), data, testPieceSize)
		ms = append(ms, m)
		p, err := s.Partial(&m)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WritePiece(0, piece(data, testPieceSize, 0)); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			p.Close() // recorded; the third stays open
		}
	}
	ids, err := s.Partials()
	if err != nil {
		t.Fatal(err)
	}
	want := []manifest.ID{ms[0].ID, ms[1].ID, ms[2].ID}
	slices.SortFunc(want, func(a, b manifest.ID) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(ids, want) {
		t.Fatalf("Partials() = %v, want %v", ids, want)
	}
	tests := []struct {
		name    string
		id      manifest.ID
		wantErr error
	}{
		{"closed partial", ms[0].ID, nil},
		{"open partial", ms[2].ID, ErrBusy},
		{"unknown", manifest.Hash([]byte("nothing")), nil},
		{"twice", ms[0].ID, nil},
	}
	for _, tt := range tests {
		if err := s.DiscardPartial(tt.id); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: DiscardPartial = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if _, ok := s.Locate(ms[0].Pieces[0].Hash); ok {
		t.Error("piece of a discarded partial still located")
	}
	if _, ok := s.Locate(ms[1].Pieces[0].Hash); !ok {
		t.Error("piece of a kept partial lost")
	}
	ids, _ = s.Partials()
	if slices.Contains(ids, ms[0].ID) || len(ids) != 2 {
		t.Errorf("after discard, Partials() = %v", ids)
	}
}
