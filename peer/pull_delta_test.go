package peer

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
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

// TestPullFetchesNewPiecesBesideLocalCopy: a file that grew by a piece is
// rebuilt from the chunk store and only the new piece crosses the network.
// That it is fetched while the copy runs (inside plan.Executor.Local), not
// after it, is TestLocalFetchesNewPiecesBesideCopy in peer/plan.
func TestPullFetchesNewPiecesBesideLocalCopy(t *testing.T) {
	n := newTestNetPieces(t, deltaTestPiece)
	base := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := n.start(filepath.Join(base, "a"))
	b := n.start(filepath.Join(base, "b"))
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
}
