package peer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/index"
)

// startWith is testNet.start with tweak applied to the daemon's config.
func (n *testNet) startWith(root string, tweak func(*Config)) *testPeer {
	n.t.Helper()
	state := filepath.Join(n.t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.t.Fatal(err)
	}
	cfg := Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	}
	tweak(&cfg)
	return n.run(cfg)
}

// restartWith runs a stopped peer again with its state and tweak applied
// to its config.
func (n *testNet) restartWith(p *testPeer, tweak func(*Config)) *testPeer {
	n.t.Helper()
	cfg := p.d.cfg
	cfg.Secret = nil
	cfg.TrackerAddr, cfg.TrackerID = "", identity.DeviceID{}
	tweak(&cfg)
	return n.run(cfg)
}

func (n *testNet) run(cfg Config) *testPeer {
	n.t.Helper()
	d, err := New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: cfg.Root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	n.t.Cleanup(p.stop)
	p.registered(n.t)
	return p
}

// partialFiles returns the partial download files of p and their sizes.
func partialFiles(t *testing.T, p *testPeer) map[string]int64 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(p.d.cfg.StateDir, "partial"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int64)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".part") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out[e.Name()] = fi.Size()
		}
	}
	return out
}

// interruptedDownload starts a (limited to uploadLimit bytes/s) and b;
// a publishes data as big.bin, and is stopped once b's partial download of
// it holds at least minBytes. It returns a (stopped), b and the name of b's
// partial file.
func interruptedDownload(t *testing.T, n *testNet, data []byte, uploadLimit float64, minBytes int64, tweakB func(*Config)) (a, b *testPeer, part string) {
	t.Helper()
	a = n.startWith(t.TempDir(), func(c *Config) { c.Bandwidth.Send = bandwidth.Rate(uploadLimit) })
	b = n.startWith(t.TempDir(), func(c *Config) {
		// A request to a source dialled in the instant it stopped waits
		// this long (30 s by default) before the pull round can end.
		c.Fetch.RequestTimeout = 5 * time.Second
		tweakB(c)
	})
	replaceFile(t, filepath.Join(a.root, "big.bin"), data)
	waitFor(t, "b's partial download under way", func() bool {
		for name, size := range partialFiles(t, b) {
			if size >= minBytes {
				part = name
				return true
			}
		}
		return false
	})
	a.stop()
	waitFor(t, "b's download interrupted", func() bool { return b.d.Stats().PiecesFetched > 0 })
	if _, err := os.Stat(filepath.Join(b.root, "big.bin")); err == nil {
		t.Fatal("b completed the download before its source stopped")
	}
	return a, b, part
}

// TestSupersededPartialRemovedAfterNewVersion: b's download of a large file
// is interrupted (its only source stops); the source comes back with a
// newer version sharing all but the last piece. b builds the new version
// from its old partial (shared pieces are not fetched again), and once the
// new version is applied the old partial is removed.
func TestSupersededPartialRemovedAfterNewVersion(t *testing.T) {
	const pieceSize = 64 << 10
	n := newTestNetPieces(t, pieceSize)
	v1 := randomData(t, 64*pieceSize)
	a, b, part := interruptedDownload(t, n, v1, 512<<10, 12*pieceSize, func(*Config) {})
	before := b.d.Stats()

	// The new version, made while a is down: the last piece changes.
	v2 := append(bytes.Clone(v1[:len(v1)-pieceSize]), randomData(t, pieceSize)...)
	pa := filepath.Join(a.root, "big.bin")
	if err := os.WriteFile(pa, v2, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(pa, later, later); err != nil {
		t.Fatal(err)
	}
	n.restartWith(a, func(c *Config) { c.Bandwidth.Send = 0 })

	waitFor(t, "v2 on b", fileIs(filepath.Join(b.root, "big.bin"), v2))
	waitFor(t, "b's partial downloads removed", func() bool { return len(partialFiles(t, b)) == 0 })

	st := b.d.Stats()
	// Every piece of v2 but the last was in v1's partial or fetched once
	// into it; the last (and v1's last, if it came before the stop) at
	// most once more each.
	if max := int64(len(v2)) + 2*pieceSize; st.BytesReceived > max {
		t.Errorf("b received %d bytes for a %d-byte file: shared pieces fetched again", st.BytesReceived, len(v2))
	}
	if got, had := st.PiecesLocal, before.PiecesFetched; got < had-2 {
		t.Errorf("v2 copied %d pieces from the old partial, which held about %d", got, had)
	}
	t.Logf("old partial %s; fetched before the stop %d pieces, total received %d bytes, copied locally %d pieces",
		part, before.PiecesFetched, st.BytesReceived, st.PiecesLocal)
}

// TestStalledPartialRemoved: a download whose only source is gone for good
// is removed once no piece arrived for Config.PartialMaxAge, though the
// version is still wanted.
func TestStalledPartialRemoved(t *testing.T) {
	const pieceSize = 64 << 10
	n := newTestNetPieces(t, pieceSize)
	_, b, part := interruptedDownload(t, n, randomData(t, 32*pieceSize), 512<<10, 4*pieceSize, func(c *Config) { c.PartialMaxAge = 500 * time.Millisecond })
	// The retries reopen the download (an empty file) while it is wanted;
	// the stalled pieces go.
	waitFor(t, "stalled partial removed", func() bool { return partialFiles(t, b)[part] == 0 })
	if b.d.Stats().PendingWants == 0 {
		t.Error("the version is no longer wanted: the test did not exercise a stalled want")
	}
}

// TestEachWantStopsReading: the chunk store's collection walks the wants
// through eachWant a page at a time; once it says stop, no further page is
// read (counted by the pages' reads: a closed index would fail them).
func TestEachWantStopsReading(t *testing.T) {
	idx, err := index.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	var wants []index.Want
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("f%02d", i)
		data := []byte(p)
		pieces := []manifest.Piece{{Hash: manifest.Hash(data), Weak: manifest.WeakSum(data)}}
		m := manifest.Manifest{Path: p, Size: int64(len(data)), ModTime: 1e18, PieceSize: manifest.MinPieceSize, Pieces: pieces}
		m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
		wants = append(wants, index.Want{Manifest: m, Seq: 1})
	}
	if err := idx.Update(index.Batch{Wants: wants, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	g := &partialGC{p: &puller{idx: idx, page: 2, log: testLog()}}
	for _, tc := range []struct {
		stopAfter int // yields answered true before the first false; -1: never stop
		want      []string
		closeAt   int // close the index after this many yields (a later page read fails); 0: never
		wantErr   bool
	}{
		{stopAfter: -1, want: []string{"f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09"}},
		{stopAfter: 2, want: []string{"f00", "f01", "f02"}},
		// Stopped on the last want of a page with the index closed right
		// after: reading the next page would fail.
		{stopAfter: 3, want: []string{"f00", "f01", "f02", "f03"}, closeAt: 4},
	} {
		var got []string
		err := g.eachWant(func(m *manifest.Manifest) bool {
			got = append(got, m.Path)
			if tc.closeAt > 0 && len(got) == tc.closeAt {
				idx.Close()
			}
			return tc.stopAfter < 0 || len(got) <= tc.stopAfter
		})
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("stop after %d: %q, %v; want %q (error %v)", tc.stopAfter, got, err, tc.want, tc.wantErr)
		}
	}
}
