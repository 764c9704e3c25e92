package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/tracker"
)

// benchDebounce is the peers' watcher quiet time in the daemon benchmarks:
// short, so the figures are about moving data, but included in them.
const benchDebounce = 20 * time.Millisecond

// syncNet is an in-process tracker on loopback (real QUIC) that the
// benchmark's peers join; stopped when the benchmark ends.
type syncNet struct {
	b     *testing.B
	srv   *tracker.Server
	token tracker.Token
}

func newSyncNet(b *testing.B) *syncNet {
	b.Helper()
	srv, err := tracker.New(tracker.ServerConfig{
		Listen: "127.0.0.1:0", StateDir: b.TempDir(),
		PieceSize: manifest.DefaultPieceSize, Log: quietLog(),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "tracker:", err)
		}
	}()
	b.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return &syncNet{b: b, srv: srv, token: srv.Token()}
}

// syncPeer is one peer daemon running in the benchmark process.
type syncPeer struct {
	d    *peer.Daemon
	root string
	stop func() // cancels Run and waits for it; idempotent
}

// start runs a peer daemon on root (created if missing) with a fresh state
// directory and identity. uploadLimit is its piece server's rate (bytes/s,
// 0 = unlimited).
func (n *syncNet) start(root string, uploadLimit float64) *syncPeer {
	n.b.Helper()
	state := n.b.TempDir()
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.b.Fatal(err)
	}
	reg := &registeredWatch{seen: make(chan struct{})}
	d, err := peer.New(peer.Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Bandwidth: bandwidth.Limits{Send: bandwidth.Rate(uploadLimit)},
		Debounce: benchDebounce, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: slog.New(reg),
	})
	if err != nil {
		n.b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	p := &syncPeer{d: d, root: root}
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "peer Run:", err)
			}
		})
	}
	n.b.Cleanup(p.stop)
	// Each peer is registered before the next one starts (and before a
	// benchmark saves anything), so no registration is inside a measurement.
	select {
	case <-reg.seen:
	case <-time.After(10 * time.Second): // the log line changed: go on
	}
	return p
}

// registeredWatch is a slog.Handler that discards every record and closes
// seen at the daemon's "registered with tracker" log line.
type registeredWatch struct {
	once sync.Once
	seen chan struct{}
}

func (w *registeredWatch) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (w *registeredWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "registered with tracker" {
		w.once.Do(func() { close(w.seen) })
	}
	return nil
}

func (w *registeredWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *registeredWatch) WithGroup(string) slog.Handler      { return w }

// waitUntil polls cond every 2 ms for up to limit.
func waitUntil(b *testing.B, what string, limit time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sameSize reports whether path exists with size bytes. The daemon renames
// only complete, verified files into the folder, so the name appearing with
// the right size means the file is complete.
func sameSize(path string, size int64) func() bool {
	return func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Size() == size
	}
}

// sameContent fails the benchmark unless a and b hold the same bytes.
func sameContent(b *testing.B, pa, pb string) {
	b.Helper()
	ha, err := fileHash(pa)
	if err != nil {
		b.Fatal(err)
	}
	hb, err := fileHash(pb)
	if err != nil {
		b.Fatal(err)
	}
	if ha != hb {
		b.Fatalf("%s and %s differ", pa, pb)
	}
}

func fileHash(p string) (manifest.ID, error) {
	m, err := manifest.BuildFile(context.Background(), filepath.Dir(p), filepath.Base(p), manifest.DefaultPieceSize)
	return m.ID, err
}
