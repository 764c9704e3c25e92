package peer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
)

// silentHandler is a hostile member's tracker handler: it ignores
// everything it is told.
type silentHandler struct{}

func (silentHandler) Registered(tracker.RegisterInfo) {}
func (silentHandler) Updates([]tracker.Entry)         {}
func (silentHandler) PeersChanged([]tracker.PeerInfo) {}

// joinHostile makes a member that speaks the real tracker protocol over
// QUIC (tracker.Client) but serves no pieces and publishes whatever the
// test gives it. The client stops when the test ends.
func (n *testNet) joinHostile(t *testing.T) *tracker.Client {
	t.Helper()
	id, err := identity.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := tracker.NewClient(tracker.ClientConfig{
		Addr: n.srv.Addr().String(), Identity: id, Tracker: n.token.Tracker,
		Secret: append([]byte(nil), n.token.Secret[:]...), Handler: silentHandler{}, Log: testLog(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// startOneAtATime is testNet.start for a peer that fetches one large
// file at a time (Config.Parallel = 1).
func (n *testNet) startOneAtATime(t *testing.T, root string) *testPeer {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Parallel: 1, Log: testLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	t.Cleanup(p.stop)
	p.registered(t)
	return p
}

// heapPeak samples the process's live heap (runtime/metrics) every 2 ms
// until stop is called, which returns the highest value seen.
func heapPeak() (stop func() uint64) {
	var peak uint64
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}

// liveHeap is the live heap right after a collection.
func liveHeap() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// fakeClaim is a valid manifest of a file of size bytes that exists
// nowhere: its piece hashes are made up (piece i's hash is derived from i
// and salt), so no device can ever serve it.
func fakeClaim(path string, size, pieceSize int64, salt byte) manifest.Manifest {
	pieces := make([]manifest.Piece, manifest.PieceCount(size, pieceSize))
	for i := range pieces {
		h := &pieces[i].Hash
		h[0], h[1], h[2], h[3], h[31] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24), salt
	}
	return manifest.Manifest{
		Path: path, Kind: manifest.KindFile, Size: size, PieceSize: pieceSize, Pieces: pieces,
		ModTime: time.Now().UnixNano(), ID: manifest.FileID(size, pieceSize, pieces),
	}
}

// TestHostileMemberHugeManifests: a member publishing manifests over
// MaxFileSize or MaxPieces is refused by the tracker with an error naming
// the limit, and nobody receives them; many manifests within the limits
// that claim the largest files with no data behind them reach the honest
// peers as wants, yet a peer's heap stays bounded (it decodes a want whole
// only while it handles it) and it keeps syncing.
func TestHostileMemberHugeManifests(t *testing.T) {
	const pieceSize = manifest.MaxPieceSize // 1 TiB in 2^16 pieces: 2.25 MiB per manifest
	n := newTestNetPieces(t, pieceSize)
	a := n.startOneAtATime(t, t.TempDir())
	b := n.startOneAtATime(t, t.TempDir())
	evil := n.joinHostile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	over := []struct {
		name            string
		path            string
		size, pieceSize int64
		wantErr         string
	}{
		{"over MaxFileSize", "over-size.img", manifest.MaxFileSize + 1, manifest.MaxPieceSize, "MaxFileSize"},
		{"over MaxPieces", "over-pieces.img", (manifest.MaxPieces + 1) * manifest.MinPieceSize, manifest.MinPieceSize, "MaxPieces"},
	}
	for i, tt := range over {
		t.Run(tt.name, func(t *testing.T) {
			m := fakeClaim(tt.path, tt.size, tt.pieceSize, byte(100+i))
			rs, err := evil.Update(ctx, []tracker.Change{{New: m}})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if rs[0].Outcome != tracker.Rejected || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), tt.wantErr) {
				t.Fatalf("result %v (%v), want rejected naming %s", rs[0].Outcome, rs[0].Err, tt.wantErr)
			}
		})
	}

	// Within the limits: claims of MaxFileSize each, one per update. The
	// heap is measured against the process before them, from when both
	// peers hold them all as wants (the transfers of the claims, buffered
	// by QUIC up to its windows, are over) until the honest files below
	// have synced: every pull round lists every want meanwhile.
	base := liveHeap()
	const claims = 16
	for i := range claims {
		m := fakeClaim("claims/"+strings.Repeat("x", i+1)+".img", manifest.MaxFileSize, pieceSize, byte(i))
		rs, err := evil.Update(ctx, []tracker.Change{{New: m}})
		if err != nil || rs[0].Outcome != tracker.Accepted {
			t.Fatalf("claim %d: %v %v", i, rs, err)
		}
	}
	for _, p := range []*testPeer{a, b} {
		waitFor(t, "every claim held as a want and tried", func() bool {
			return p.d.Stats().PendingWants >= claims
		})
	}
	stop := heapPeak()
	for i := range 5 {
		data := []byte(strings.Repeat("honest ", 1000+i))
		name := filepath.Join(a.root, "honest-"+strings.Repeat("y", i+1)+".txt")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "honest file on b", fileIs(filepath.Join(b.root, filepath.Base(name)), data))
	}
	peak := stop()
	for _, tt := range over {
		if _, err := os.Lstat(filepath.Join(b.root, tt.path)); err == nil {
			t.Errorf("%s reached b", tt.path)
		}
	}
	// The heap is the process's: the tracker, both honest peers and the
	// hostile member. What the claims add once stored: each peer holds
	// whole only the want it is fetching (Config.Parallel = 1), 2.25 MiB
	// and as much again while it is decoded, so about 2 × 4.5 = 9 MiB
	// (measured: +5 to +10 MiB). Every claim whole at once in both peers,
	// as each pull round once held them, adds 2 × 16 × 2.25 = 72 MiB
	// (measured when Index.Wants decoded whole wants: +71 to +73 MiB).
	const bound = 36 << 20
	whole := int64(claims) * (manifest.MaxFileSize / pieceSize) * (manifest.IDSize + 4)
	grew := int64(peak) - int64(base)
	t.Logf("live heap %d MiB before the claims, at most %d MiB (%+d MiB) while pulling (bound +%d MiB; every claim whole in both peers: +%d MiB)",
		base>>20, peak>>20, grew>>20, bound>>20, 2*whole>>20)
	if grew > bound {
		t.Fatalf("the claims grew the live heap by %d MiB, want at most %d MiB", grew>>20, bound>>20)
	}
}
