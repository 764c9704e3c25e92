package peer

import (
	"context"
	"os"
	"path/filepath"
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
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	evil := n.joinHostile(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	over := []struct {
		name    string
		m       manifest.Manifest
		wantErr string
	}{
		{"over MaxFileSize", fakeClaim("over-size.img", manifest.MaxFileSize+1, manifest.MaxPieceSize, 1), "MaxFileSize"},
		{"over MaxPieces", fakeClaim("over-pieces.img", (manifest.MaxPieces+1)*manifest.MinPieceSize, manifest.MinPieceSize, 2), "MaxPieces"},
	}
	for _, tt := range over {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := evil.Update(ctx, []tracker.Change{{New: tt.m}})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if rs[0].Outcome != tracker.Rejected || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), tt.wantErr) {
				t.Fatalf("result %v (%v), want rejected naming %s", rs[0].Outcome, rs[0].Err, tt.wantErr)
			}
		})
	}

	// Within the limits: claims of MaxFileSize each, one per update.
	const claims = 32
	for i := range claims {
		m := fakeClaim("claims/"+strings.Repeat("x", i+1)+".img", manifest.MaxFileSize, pieceSize, byte(i))
		rs, err := evil.Update(ctx, []tracker.Change{{New: m}})
		if err != nil || rs[0].Outcome != tracker.Accepted {
			t.Fatalf("claim %d: %v %v", i, rs, err)
		}
	}
	waitFor(t, "b holds every claim as a want and has tried them", func() bool {
		return b.d.Stats().PendingWants >= claims
	})

	// Measure while b keeps pulling rounds over the claims and syncs an
	// honest file.
	var peak uint64
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop := make(chan struct{})
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
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	for i := range 5 {
		data := []byte(strings.Repeat("honest ", 1000+i))
		name := filepath.Join(a.root, "honest-"+strings.Repeat("y", i+1)+".txt")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "honest file on b", fileIs(filepath.Join(b.root, filepath.Base(name)), data))
	}
	close(stop)
	wg.Wait()
	for _, tt := range over {
		if _, err := os.Lstat(filepath.Join(b.root, tt.m.Path)); err == nil {
			t.Errorf("%s reached b", tt.m.Path)
		}
	}
	// The heap is the process's: the tracker, both honest peers and the
	// hostile member. Each peer holds whole at most the wants it is
	// fetching (Config.Parallel = 4), each 2.25 MiB and as much again
	// while it is decoded: about 2 × 4 × 4.5 = 36 MiB over what the
	// process holds anyway. Every claim whole at once in both peers would
	// be 2 × 32 × 2.25 = 144 MiB live.
	const bound = 96 << 20
	whole := int64(claims) * (manifest.MaxFileSize / pieceSize) * (manifest.IDSize + 4)
	t.Logf("peak live heap while pulling: %d MiB (bound %d MiB; every claim whole in both peers: %d MiB)",
		peak>>20, bound>>20, 2*whole>>20)
	if peak > bound {
		t.Fatalf("peak live heap %d MiB, want under %d MiB", peak>>20, bound>>20)
	}
}
