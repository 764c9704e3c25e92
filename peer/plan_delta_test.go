package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
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

const deltaTestPiece = 64 << 10

func randomData(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceFile writes data next to p and renames it over p, so the watcher
// never sees a half-written version.
func replaceFile(t testing.TB, p string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(filepath.Dir(p)), "."+filepath.Base(p)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// syncedPair starts two peers with pieces of deltaTestPiece bytes and
// returns them once b holds a's file name with content data.
func syncedPair(t *testing.T, name string, data []byte) (a, b *testPeer) {
	t.Helper()
	n := newTestNetPieces(t, deltaTestPiece)
	base := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a = n.start(filepath.Join(base, "a"))
	b = n.start(filepath.Join(base, "b"))
	replaceFile(t, filepath.Join(a.root, name), data)
	waitFor(t, "b has the old version", fileIs(filepath.Join(b.root, name), data))
	waitFor(t, "b's stats settle", func() bool { return b.d.Stats().PendingWants == 0 })
	return a, b
}

// statsDiff is after minus before, counter by counter (the ones this file
// is about).
func statsDiff(before, after StatsSnapshot) StatsSnapshot {
	return StatsSnapshot{
		BytesReceived: after.BytesReceived - before.BytesReceived,
		BytesLocal:    after.BytesLocal - before.BytesLocal,
		PiecesLocal:   after.PiecesLocal - before.PiecesLocal,
		PiecesFetched: after.PiecesFetched - before.PiecesFetched,
		DeltaSnapshot: DeltaSnapshot{
			PiecesFound:        after.PiecesFound - before.PiecesFound,
			BytesFound:         after.BytesFound - before.BytesFound,
			PiecesDelta:        after.PiecesDelta - before.PiecesDelta,
			BytesDelta:         after.BytesDelta - before.BytesDelta,
			DeltaBytesSent:     after.DeltaBytesSent - before.DeltaBytesSent,
			DeltaBytesReceived: after.DeltaBytesReceived - before.DeltaBytesReceived,
			DeltaFailed:        after.DeltaFailed - before.DeltaFailed,
		},
	}
}

// TestPullInsertedByteUsesRollingSearch: one byte inserted early in a
// multi-piece file shifts every later piece; the receiver finds them in its
// old version and fetches only a delta of the piece with the insertion.
func TestPullInsertedByteUsesRollingSearch(t *testing.T) {
	const size = 4 << 20
	old := randomData(t, size)
	a, b := syncedPair(t, "big.bin", old)
	before := b.d.Stats()

	at := 1<<20 + 1000
	nw := slices.Concat(old[:at], []byte{'X'}, old[at:])
	replaceFile(t, filepath.Join(a.root, "big.bin"), nw)
	waitFor(t, "b has the new version", fileIs(filepath.Join(b.root, "big.bin"), nw))
	waitFor(t, "b's pull is over", func() bool { return b.d.Stats().PendingWants == 0 })
	d := statsDiff(before, b.d.Stats())
	t.Logf("insert 1 byte into %d: %+v", size, d)

	if d.PiecesFound == 0 {
		t.Errorf("no piece found by the rolling search: %+v", d)
	}
	shifted := int64(size-at) / deltaTestPiece
	if d.PiecesFound < shifted-1 {
		t.Errorf("found %d pieces, want about the %d shifted ones", d.PiecesFound, shifted)
	}
	if d.PiecesDelta < 1 {
		t.Errorf("the piece with the insertion did not go through the delta path: %+v", d)
	}
	if d.BytesReceived <= 0 || d.BytesReceived > deltaTestPiece/4 {
		t.Errorf("received %d bytes for a one-byte insertion into %d bytes (pieces of %d)", d.BytesReceived, size, deltaTestPiece)
	}
	if d.DeltaFailed != 0 {
		t.Errorf("%d deltas failed", d.DeltaFailed)
	}
}

// TestPullScatteredOverwritesUseDeltas: small overwrites inside a few
// pieces cost a delta each, far less than the changed pieces.
func TestPullScatteredOverwritesUseDeltas(t *testing.T) {
	const size = 2 << 20
	old := randomData(t, size)
	a, b := syncedPair(t, "db.bin", old)
	before := b.d.Stats()

	nw := slices.Clone(old)
	const edits, editLen = 8, 200
	for k := range edits {
		off := k*(size/edits) + 5000 + k*777
		copy(nw[off:off+editLen], randomData(t, editLen))
	}
	replaceFile(t, filepath.Join(a.root, "db.bin"), nw)
	waitFor(t, "b has the new version", fileIs(filepath.Join(b.root, "db.bin"), nw))
	waitFor(t, "b's pull is over", func() bool { return b.d.Stats().PendingWants == 0 })
	d := statsDiff(before, b.d.Stats())
	t.Logf("%d overwrites of %d bytes: %+v", edits, editLen, d)

	if d.PiecesDelta != edits {
		t.Errorf("%d pieces rebuilt from deltas, want %d: %+v", d.PiecesDelta, edits, d)
	}
	if d.BytesDelta != edits*deltaTestPiece {
		t.Errorf("delta piece bytes %d, want %d", d.BytesDelta, edits*deltaTestPiece)
	}
	if d.DeltaBytesSent <= 0 || d.DeltaBytesReceived <= 0 {
		t.Errorf("delta wire counters did not move: %+v", d)
	}
	changed := int64(edits * deltaTestPiece)
	if d.BytesReceived > changed/8 {
		t.Errorf("received %d bytes, want far below the %d bytes of changed pieces", d.BytesReceived, changed)
	}
	if d.PiecesFetched != 0 || d.DeltaFailed != 0 {
		t.Errorf("fetched %d whole pieces, %d deltas failed; want none", d.PiecesFetched, d.DeltaFailed)
	}
}

// fakeDeltas is a deltaFetcher that answers from a table of outcomes per
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

	var st Stats
	j := deltaJob{
		fetch: f, sink: fx.part, basis: basis, size: int64(len(fx.old)), m: &fx.m,
		srcs:  []transfer.Source{{ID: identity.DeviceID{1}, Addr: "127.0.0.1:1"}, {ID: identity.DeviceID{2}, Addr: "127.0.0.1:2"}},
		stats: &st, log: testLog(),
	}
	tl := &tally{}
	if err := j.run(context.Background(), fx.part.Missing(), tl); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.part.Missing(), []int{1, 3, 5}; !slices.Equal(got, want) {
		t.Fatalf("missing after deltas %v, want %v (left for the whole-piece fetch)", got, want)
	}
	s := st.Snapshot()
	want := DeltaSnapshot{
		PiecesDelta: 3, BytesDelta: 3 * deltaTestPiece,
		DeltaBytesSent: 5 * 50, DeltaBytesReceived: 4 * 100, DeltaFailed: 3,
	}
	if s.DeltaSnapshot != want {
		t.Errorf("counters %+v, want %+v", s.DeltaSnapshot, want)
	}
	if s.BytesReceived != want.DeltaBytesReceived {
		t.Errorf("bytes received %d, want the delta bytes %d", s.BytesReceived, want.DeltaBytesReceived)
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
			var st Stats
			j := deltaJob{
				fetch: f, sink: fx.part, basis: bytes.NewReader(fx.old), size: int64(len(fx.old)), m: &fx.m,
				srcs: []transfer.Source{{ID: identity.DeviceID{1}, Addr: "127.0.0.1:1"}}, stats: &st, log: testLog(),
			}
			if err := j.run(context.Background(), fx.part.Missing(), &tally{}); err != nil {
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
	var c deltaCounters
	tl := &tally{}
	if err := copyFound(context.Background(), bytes.NewReader(basis), &fx.m, fx.part, res.Matches, &c, tl, testLog()); err != nil {
		t.Fatal(err)
	}
	if got := fx.part.Missing(); !slices.Equal(got, []int{2}) {
		t.Errorf("missing %v, want [2]", got)
	}
	if c.PiecesFound.Load() != 3 || c.BytesFound.Load() != 3*deltaTestPiece || tl.found != 3 {
		t.Errorf("found %d pieces / %d bytes (tally %d), want 3 / %d", c.PiecesFound.Load(), c.BytesFound.Load(), tl.found, 3*deltaTestPiece)
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

// TestPlanStoreFillsFromChunkStore: pieces any local file holds are copied
// (once per hash, every index with that hash filled); others stay missing.
func TestPlanStoreFillsFromChunkStore(t *testing.T) {
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
	d := &planner{store: store, log: testLog(), stats: &Stats{}}
	if err := d.planStore(context.Background(), &m, part, part.Missing()); err != nil {
		t.Fatal(err)
	}
	if got := part.Missing(); !slices.Equal(got, []int{2, 5}) {
		t.Errorf("missing %v, want [2 5]", got)
	}
	s := d.stats.Snapshot()
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

// synthManifest is a manifest of size bytes whose piece i has the hash
// named by ids[i] (pieces with equal names are equal).
func synthManifest(size, pieceSize int64, ids string) *manifest.Manifest {
	m := &manifest.Manifest{Size: size, PieceSize: pieceSize}
	for _, c := range ids {
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash([]byte{byte(c)})})
	}
	return m
}

func TestSplitInPlace(t *testing.T) {
	const p = 4096
	old := synthManifest(6*p, p, "abcdef")
	tests := []struct {
		name          string
		nw            *manifest.Manifest
		want          []int
		inPlace, srch []int
	}{
		{"one piece overwritten", synthManifest(6*p, p, "abXdef"), []int{2}, []int{2}, nil},
		{"first piece", synthManifest(6*p, p, "Xbcdef"), []int{0}, []int{0}, nil},
		{"two adjacent", synthManifest(6*p, p, "abXYef"), []int{2, 3}, []int{2, 3}, nil},
		{"three adjacent: maybe shifted", synthManifest(6*p, p, "aXYZef"), []int{1, 2, 3}, nil, []int{1, 2, 3}},
		{"two separate runs", synthManifest(6*p, p, "Xbcdeg"), []int{0, 5}, []int{0, 5}, nil},
		{"last piece, same size", synthManifest(6*p, p, "abcdeX"), []int{5}, []int{5}, nil},
		{"last piece, longer", synthManifest(6*p+1, p, "abcdeXY"), []int{5, 6}, nil, []int{5, 6}},
		{"insertion shifts the rest", synthManifest(6*p+1, p, "abXYZWV"), []int{2, 3, 4, 5, 6}, nil, []int{2, 3, 4, 5, 6}},
		{"only some wanted", synthManifest(6*p, p, "abXdeY"), []int{5}, []int{5}, nil},
		{"other piece size", synthManifest(6*p, 2*p, "XYZ"), []int{0, 1, 2}, nil, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, srch := splitInPlace(old, tc.nw, tc.want)
			if !slices.Equal(in, tc.inPlace) || !slices.Equal(srch, tc.srch) {
				t.Errorf("in place %v, search %v; want %v, %v", in, srch, tc.inPlace, tc.srch)
			}
		})
	}
}

// plannedRecorder keeps the attributes of every "pieces planned" debug
// record (one per pulled file), by path.
type plannedRecorder struct {
	mu      sync.Mutex
	planned map[string]map[string]slog.Value
}

func (r *plannedRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *plannedRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *plannedRecorder) WithGroup(string) slog.Handler            { return r }
func (r *plannedRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "pieces planned" {
		return nil
	}
	attrs := make(map[string]slog.Value)
	rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
	r.mu.Lock()
	defer r.mu.Unlock()
	r.planned[attrs["path"].String()] = attrs
	return nil
}

func (r *plannedRecorder) get(path string) map[string]slog.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.planned[path]
}

// TestPullFetchesNewPiecesBesideLocalCopy: a file that grew by a piece is
// rebuilt from the chunk store, and the new piece is fetched while that
// copy runs (inside planLocal), not after it.
func TestPullFetchesNewPiecesBesideLocalCopy(t *testing.T) {
	n := newTestNetPieces(t, deltaTestPiece)
	base := t.TempDir()
	rec := &plannedRecorder{planned: make(map[string]map[string]slog.Value)}
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := n.start(filepath.Join(base, "a"))
	b := n.startLogged(filepath.Join(base, "b"), slog.New(rec))
	old := randomData(t, 8*deltaTestPiece)
	replaceFile(t, filepath.Join(a.root, "grow.bin"), old)
	waitFor(t, "b has the old version", fileIs(filepath.Join(b.root, "grow.bin"), old))
	waitFor(t, "b's pull is over", func() bool { return b.d.Stats().PendingWants == 0 })
	before := b.d.Stats()

	nw := slices.Concat(old, randomData(t, deltaTestPiece+100))
	replaceFile(t, filepath.Join(a.root, "grow.bin"), nw)
	waitFor(t, "b has the new version", fileIs(filepath.Join(b.root, "grow.bin"), nw))
	waitFor(t, "b's pull is over", func() bool { return b.d.Stats().PendingWants == 0 })
	d := statsDiff(before, b.d.Stats())
	if d.PiecesLocal != 8 || d.PiecesFetched != 2 || d.BytesReceived != deltaTestPiece+100 {
		t.Errorf("grown file: %+v; want 8 pieces local, 2 fetched (%d bytes)", d, deltaTestPiece+100)
	}
	attrs := rec.get("grow.bin")
	if attrs == nil {
		t.Fatal("no pieces planned record for grow.bin")
	}
	if got, left := attrs["fetched"].Int64(), attrs["fetch"].Int64(); got != 2 || left != 0 {
		t.Errorf("planLocal fetched %d pieces beside the local copy and left %d; want 2 and 0", got, left)
	}
}
