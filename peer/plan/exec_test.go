package plan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// fakeDeltas is a DeltaFetcher that answers from a table of outcomes per
// piece hash.
type fakeDeltas struct {
	mu      sync.Mutex
	pieces  map[manifest.ID][]byte // the true pieces
	corrupt map[manifest.ID]bool   // answer with a flipped byte
	fail    map[manifest.ID]bool   // answer with an error
	wire    int                    // delta bytes claimed per answer; 0: 100
	calls   int
}

var errFakeDelta = errors.New("fake delta failure")

func (f *fakeDeltas) FetchDelta(ctx context.Context, src transfer.Source, h manifest.ID, length int, basis []byte) ([]byte, transfer.DeltaStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	st := transfer.DeltaStats{SignatureBytes: 50, DeltaBytes: f.wire}
	if st.DeltaBytes == 0 {
		st.DeltaBytes = 100
	}
	switch {
	case f.fail[h]:
		return nil, transfer.DeltaStats{SignatureBytes: 50}, errFakeDelta
	case f.corrupt[h]:
		p := slices.Clone(f.pieces[h])
		p[len(p)/2] ^= 1
		return p, st, nil
	}
	p, ok := f.pieces[h]
	if !ok {
		return nil, st, transfer.ErrNotFound
	}
	return slices.Clone(p), st, nil
}

// shortReader fails reads beyond n bytes.
type shortReader struct {
	r io.ReaderAt
	n int64
}

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > s.n {
		return 0, io.ErrUnexpectedEOF
	}
	return s.r.ReadAt(p, off)
}

// deltaFixture is a partial of a new version of a file and the old bytes.
type deltaFixture struct {
	m    manifest.Manifest
	old  []byte // the old version
	nw   []byte // the new one: every piece has one byte changed
	part *chunkstore.Partial
}

func newDeltaFixture(t *testing.T, pieces int) *deltaFixture {
	t.Helper()
	old := randomData(t, pieces*deltaTestPiece)
	nw := slices.Clone(old)
	for i := range pieces {
		nw[i*deltaTestPiece+100] ^= 0xff // every piece changed a little
	}
	m, err := manifest.BuildBytes(context.Background(), nw, deltaTestPiece)
	if err != nil {
		t.Fatal(err)
	}
	m.Path = "f.bin"
	root := t.TempDir()
	store, err := chunkstore.Open(root, filepath.Join(root, ".dartsync"), testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	part, err := store.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { part.Close() })
	return &deltaFixture{m: m, old: old, nw: nw, part: part}
}

// TestDeltaFailureFallsBackToWholePiece: a delta that fails, or rebuilds
// a piece with the wrong hash, or whose basis cannot be read, leaves its
// piece missing (the whole-piece fetch takes it) and is counted; the
// others are written.
func TestDeltaFailureFallsBackToWholePiece(t *testing.T) {
	const pieces = 6
	fx := newDeltaFixture(t, pieces)
	f := &fakeDeltas{pieces: map[manifest.ID][]byte{}, corrupt: map[manifest.ID]bool{}, fail: map[manifest.ID]bool{}}
	nw := fx.nw
	for i := range pieces {
		f.pieces[fx.m.Pieces[i].Hash] = nw[i*deltaTestPiece : (i+1)*deltaTestPiece]
	}
	f.fail[fx.m.Pieces[1].Hash] = true
	f.corrupt[fx.m.Pieces[3].Hash] = true
	// Piece 5's basis lies beyond what the reader can give.
	basis := shortReader{r: bytes.NewReader(fx.old), n: 5 * deltaTestPiece}

	st := &counts{}
	j := deltaJob{
		fetch: f, sink: fx.part, basis: basis, m: &fx.m,
		srcs:  []transfer.Source{{ID: identity.DeviceID{1}, Addr: "127.0.0.1:1"}, {ID: identity.DeviceID{2}, Addr: "127.0.0.1:2"}},
		count: st, log: testLog(),
	}
	tl := &tally{}
	if err := j.run(context.Background(), fx.inPlaceDeltas(), tl); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.part.Missing(), []int{1, 3, 5}; !slices.Equal(got, want) {
		t.Fatalf("missing after deltas %v, want %v (left for the whole-piece fetch)", got, want)
	}
	s := st.get()
	want := countValues{
		PiecesDelta: 3, BytesDelta: 3 * deltaTestPiece,
		DeltaBytesSent: 5 * 50, DeltaBytesReceived: 4 * 100, DeltaFailed: 3,
		BytesReceived: 4 * 100, // the delta bytes
	}
	if s != want {
		t.Errorf("counters %+v, want %+v", s, want)
	}
	if tl.delta != 3 || tl.failed != 3 {
		t.Errorf("tally delta %d failed %d, want 3 and 3", tl.delta, tl.failed)
	}
	// The whole-piece fetch fills the rest; the file is then the new one.
	for _, i := range fx.part.Missing() {
		if err := fx.part.WritePiece(i, nw[fx.m.PieceOffset(i):fx.m.PieceOffset(i)+fx.m.PieceLen(i)]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(fx.part.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, nw) {
		t.Error("partial is not the new version")
	}
}

// TestDeltasStopWhenTheyDoNotPay: when every delta is about as large as its
// piece, or every delta fails, the job gives up after deltaGiveUp of them
// and leaves the rest for the whole-piece fetch; useful deltas go on.
func TestDeltasStopWhenTheyDoNotPay(t *testing.T) {
	const pieces = 40
	tests := []struct {
		name           string
		wire           int  // delta bytes per answer
		fail           bool // every delta fails
		minTry, maxTry int
	}{
		{"deltas as large as pieces", deltaTestPiece, false, deltaGiveUp, deltaGiveUp + deltaParallel},
		{"source refuses deltas", 100, true, deltaGiveUp, deltaGiveUp + deltaParallel},
		{"small deltas", 100, false, pieces, pieces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newDeltaFixture(t, pieces)
			f := &fakeDeltas{pieces: map[manifest.ID][]byte{}, fail: map[manifest.ID]bool{}, wire: tc.wire}
			for i := range pieces {
				f.pieces[fx.m.Pieces[i].Hash] = fx.nw[i*deltaTestPiece : (i+1)*deltaTestPiece]
				f.fail[fx.m.Pieces[i].Hash] = tc.fail
			}
			j := deltaJob{
				fetch: f, sink: fx.part, basis: bytes.NewReader(fx.old), m: &fx.m,
				srcs: []transfer.Source{{ID: identity.DeviceID{1}, Addr: "127.0.0.1:1"}}, count: &counts{}, log: testLog(),
			}
			if err := j.run(context.Background(), fx.inPlaceDeltas(), &tally{}); err != nil {
				t.Fatal(err)
			}
			if f.calls < tc.minTry || f.calls > tc.maxTry {
				t.Errorf("%d deltas tried, want %d..%d", f.calls, tc.minTry, tc.maxTry)
			}
			written := f.calls
			if tc.fail {
				written = 0
			}
			if n := len(fx.part.Missing()); n != pieces-written {
				t.Errorf("%d pieces missing after %d deltas of %d pieces", n, written, pieces)
			}
		})
	}
}

// TestCopyFoundVerifies: a match whose bytes changed after the search is
// not written; the others are, and are counted.
func TestCopyFoundVerifies(t *testing.T) {
	const pieces = 4
	fx := newDeltaFixture(t, pieces)
	// The old file holds the new pieces shifted by 7 bytes.
	basis := slices.Concat(randomData(t, 7), fx.nw)
	res, err := delta.Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), &fx.m, fx.part.Missing())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != pieces {
		t.Fatalf("search found %d of %d pieces", len(res.Matches), pieces)
	}
	// The old file changes after the search: piece 2's bytes are edited.
	basis[7+2*deltaTestPiece+10] ^= 1
	c := &counts{}
	tl := &tally{}
	var found []Step
	for _, mt := range res.Matches {
		found = append(found, Step{Piece: mt.Piece, From: Found, Off: mt.Offset, Len: fx.m.PieceLen(mt.Piece)})
	}
	if err := copyFound(context.Background(), bytes.NewReader(basis), &fx.m, fx.part, found, c, tl, testLog()); err != nil {
		t.Fatal(err)
	}
	if got := fx.part.Missing(); !slices.Equal(got, []int{2}) {
		t.Errorf("missing %v, want [2]", got)
	}
	if got := c.get(); got.PiecesFound != 3 || got.BytesFound != 3*deltaTestPiece || tl.found != 3 {
		t.Errorf("found %d pieces / %d bytes (tally %d), want 3 / %d", got.PiecesFound, got.BytesFound, tl.found, 3*deltaTestPiece)
	}
}

// TestOpenRegularNeverFollowsSymlinks: the old version used as a basis is
// a regular file at the path itself, never a symlink's target.
func TestOpenRegularNeverFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("not synced"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		wantErr error
	}{
		{"file", nil},
		{"link", errNotRegular},
		{"dir", errNotRegular},
		{"missing", os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, fi, err := openRegular(filepath.Join(dir, tc.name))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				defer f.Close()
				if fi.Size() != 3 {
					t.Errorf("size %d, want 3", fi.Size())
				}
			}
		})
	}
}

// TestLocalFillsFromChunkStore: pieces any local file holds are copied
// (once per hash, every index with that hash filled); others stay missing.
func TestLocalFillsFromChunkStore(t *testing.T) {
	root := t.TempDir()
	store, err := chunkstore.Open(root, filepath.Join(root, ".dartsync"), testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, b, c, x := randomData(t, deltaTestPiece), randomData(t, deltaTestPiece), randomData(t, deltaTestPiece), randomData(t, 1000)
	have := slices.Concat(a, b, c)
	if err := os.WriteFile(filepath.Join(root, "have.bin"), have, 0o644); err != nil {
		t.Fatal(err)
	}
	hm, err := manifest.BuildBytes(context.Background(), have, deltaTestPiece)
	if err != nil {
		t.Fatal(err)
	}
	hm.Path = "have.bin"
	if err := store.AddFile(&hm); err != nil {
		t.Fatal(err)
	}
	nw := slices.Concat(a, a, randomData(t, deltaTestPiece), b, a, x)
	m, err := manifest.BuildBytes(context.Background(), nw, deltaTestPiece)
	if err != nil {
		t.Fatal(err)
	}
	m.Path = "new.bin"
	part, err := store.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	st := &counts{}
	e := &Executor{Store: store, Count: st, Log: testLog()}
	if err := e.Local(context.Background(), Job{Manifest: &m}, part); err != nil {
		t.Fatal(err)
	}
	if got := part.Missing(); !slices.Equal(got, []int{2, 5}) {
		t.Errorf("missing %v, want [2 5]", got)
	}
	s := st.get()
	if s.PiecesLocal != 2 || s.BytesLocal != 2*deltaTestPiece {
		t.Errorf("local %d pieces / %d bytes, want 2 / %d (one per hash)", s.PiecesLocal, s.BytesLocal, 2*deltaTestPiece)
	}
	got, err := os.ReadFile(part.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 3, 4} {
		off := m.PieceOffset(i)
		if !bytes.Equal(got[off:off+deltaTestPiece], nw[off:off+deltaTestPiece]) {
			t.Errorf("piece %d not copied", i)
		}
	}
}
