package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// testNet is an in-process tracker on loopback plus the daemons of a test.
type testNet struct {
	t      testing.TB
	srv    *tracker.Server
	token  tracker.Token
	wg     sync.WaitGroup
	cfg    tracker.ServerConfig
	cancel context.CancelFunc
}

func newTestNet(t testing.TB) *testNet { return newTestNetPieces(t, 16<<10) }

// newTestNetPieces starts a tracker that tells peers to use pieceSize.
func newTestNetPieces(t testing.TB, pieceSize int64) *testNet {
	t.Helper()
	n := &testNet{t: t, cfg: tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: t.TempDir(), PieceSize: pieceSize}}
	n.startTracker()
	n.token = n.srv.Token()
	n.cfg.Listen = n.srv.Addr().String() // a restart listens at the same address
	t.Cleanup(n.stopTracker)
	return n
}

func (n *testNet) startTracker() {
	n.t.Helper()
	srv, err := tracker.New(n.cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.srv, n.cancel = srv, cancel
	n.wg.Add(1)
	go func() { defer n.wg.Done(); _ = srv.Run(ctx) }()
}

func (n *testNet) stopTracker() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.wg.Wait()
	n.cancel = nil
}

// testPeer is one daemon running in the test process.
type testPeer struct {
	d      *Daemon
	root   string
	cancel context.CancelFunc
	done   chan error
}

func (n *testNet) start(root string) *testPeer {
	n.t.Helper()
	return n.startLogged(root, testLog())
}

// startLogged is start with the daemon logging to log.
func (n *testNet) startLogged(root string, log *slog.Logger) *testPeer {
	n.t.Helper()
	state := filepath.Join(n.t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.t.Fatal(err)
	}
	d, err := New(Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: log,
	})
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	n.t.Cleanup(p.stop)
	p.registered(n.t)
	return p
}

// registered waits for the peer's first scan, which follows its first
// registration. Peers of a test join one after the other: the tracker may
// not tell two peers registering at the very same moment about each other.
func (p *testPeer) registered(t testing.TB) {
	t.Helper()
	waitFor(t, "first scan", func() bool { return p.d.Stats().ScansCompleted > 0 })
}

func (p *testPeer) stop() {
	p.cancel()
	if err := <-p.done; err != nil {
		panic(fmt.Sprintf("daemon Run: %v", err))
	}
	p.done <- nil
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileIs(p string, want []byte) func() bool {
	return func() bool {
		b, err := os.ReadFile(p)
		return err == nil && bytes.Equal(b, want)
	}
}

func TestDaemonSyncsAndStopsCleanly(t *testing.T) {
	// Registered first, so it runs after every other cleanup.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	data := bytes.Repeat([]byte("dartsync "), 10000) // several pieces
	if err := os.MkdirAll(filepath.Join(a.root, "sub dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.root, "sub dir", "f.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "file on b", fileIs(filepath.Join(b.root, "sub dir", "f.txt"), data))
	// Identical pieces appear once in the file's piece list work; the
	// receiver got them over the network, the sender sent them.
	waitFor(t, "stats", func() bool { return b.d.Stats().FilesApplied == 1 && a.d.Stats().BytesSent > 0 })

	// b's own write is never reported back as a local change.
	if got := b.d.Stats().LocalChanges; got != 0 {
		t.Errorf("b reported %d local changes for a file it only received", got)
	}
	b.stop()
	a.stop()
}

func TestRemoteWriteNeverFollowsSymlink(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	bRoot, outside := t.TempDir(), t.TempDir()
	// On b, "dir" is a symlink out of the folder (the scanner skips it).
	if err := os.Symlink(outside, filepath.Join(bRoot, "dir")); err != nil {
		t.Fatal(err)
	}
	b := n.start(bRoot)
	if err := os.MkdirAll(filepath.Join(a.root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.root, "dir", "evil"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file announced after dir/evil: once b has it, b has tried dir/evil.
	waitFor(t, "a reported dir/evil", func() bool { return a.d.Stats().LocalChanges >= 2 })
	if err := os.WriteFile(filepath.Join(a.root, "marker"), []byte("m"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "marker on b", fileIs(filepath.Join(bRoot, "marker"), []byte("m")))
	waitFor(t, "b retried dir/evil", func() bool { return b.d.Stats().PendingWants > 0 })
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("remote write followed the symlink out of the folder: %v", ents)
	}
	if fi, err := os.Lstat(filepath.Join(bRoot, "dir")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the local symlink was replaced: %v %v", fi, err)
	}
}

// TestConcurrentEditKeepsBoth: a is stopped, both a and b edit the same
// file, a starts again. Whichever edit is newer keeps the name; the other
// survives as a conflict copy on both peers. Neither is ever overwritten.
func TestConcurrentEditKeepsBoth(t *testing.T) {
	tests := []struct {
		name          string
		restartedWins bool
	}{
		{"restarted peer's edit older", false},
		{"restarted peer's edit newer", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNet(t)
			a := n.start(t.TempDir())
			b := n.start(t.TempDir())
			pa, pb := filepath.Join(a.root, "doc.txt"), filepath.Join(b.root, "doc.txt")
			if err := os.WriteFile(pa, []byte("v1"), 0o644); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "v1 on b", fileIs(pb, []byte("v1")))
			a.stop()
			now := time.Now()
			aData, bData := []byte("edit made on a"), []byte("edit made on b")
			if err := os.WriteFile(pb, bData, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pa, aData, 0o644); err != nil {
				t.Fatal(err)
			}
			aTime, bTime := now.Add(-time.Minute), now
			if tt.restartedWins {
				aTime, bTime = now.Add(time.Minute), now
			}
			for p, tm := range map[string]time.Time{pa: aTime, pb: bTime} {
				if err := os.Chtimes(p, tm, tm); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "b reported its edit", func() bool { return b.d.Stats().LocalChanges >= 1 })
			a2 := n.restart(t, a)
			winner, loser := bData, aData
			if tt.restartedWins {
				winner, loser = aData, bData
			}
			for _, root := range []string{a2.root, b.root} {
				waitFor(t, "winner at the name in "+root, fileIs(filepath.Join(root, "doc.txt"), winner))
				waitFor(t, "loser as a conflict copy in "+root, func() bool {
					ents, _ := os.ReadDir(root)
					for _, e := range ents {
						if strings.HasPrefix(e.Name(), "doc.sync-conflict-") && strings.HasSuffix(e.Name(), ".txt") {
							return fileIs(filepath.Join(root, e.Name()), loser)()
						}
					}
					return false
				})
			}
		})
	}
}

// restart runs a stopped peer again with its state (no token needed).
func (n *testNet) restart(t *testing.T, p *testPeer) *testPeer {
	t.Helper()
	cfg := p.d.cfg
	cfg.Secret = nil
	cfg.TrackerAddr, cfg.TrackerID = "", identity.DeviceID{}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	np := &testPeer{d: d, root: p.root, cancel: cancel, done: make(chan error, 1)}
	go func() { np.done <- d.Run(ctx) }()
	t.Cleanup(np.stop)
	np.registered(t)
	return np
}

func TestNewWithoutTrackerFails(t *testing.T) {
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Root: t.TempDir(), StateDir: t.TempDir(), Identity: id})
	if !errors.Is(err, ErrNoTracker) {
		t.Fatalf("New without tracker = %v, want ErrNoTracker", err)
	}
}

// testLog discards, unless DARTSYNC_TEST_LOG is set: then it logs to stderr
// at debug level.
func testLog() *slog.Logger {
	if os.Getenv("DARTSYNC_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestFileAndDirectorySwapKinds: a file becomes a directory and a
// directory becomes a file on one peer; the other follows.
func TestFileAndDirectorySwapKinds(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(a.root, "x"), []byte("file x"), 0o644))
	must(os.MkdirAll(filepath.Join(a.root, "y", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(a.root, "y", "sub", "f"), []byte("in y"), 0o644))
	waitFor(t, "initial on b", fileIs(filepath.Join(b.root, "y", "sub", "f"), []byte("in y")))
	waitFor(t, "x on b", fileIs(filepath.Join(b.root, "x"), []byte("file x")))

	must(os.Remove(filepath.Join(a.root, "x")))
	must(os.MkdirAll(filepath.Join(a.root, "x"), 0o755))
	must(os.WriteFile(filepath.Join(a.root, "x", "inside"), []byte("now a dir"), 0o644))
	must(os.RemoveAll(filepath.Join(a.root, "y")))
	must(os.WriteFile(filepath.Join(a.root, "y"), []byte("now a file"), 0o644))

	waitFor(t, "x is a directory on b", fileIs(filepath.Join(b.root, "x", "inside"), []byte("now a dir")))
	waitFor(t, "y is a file on b", fileIs(filepath.Join(b.root, "y"), []byte("now a file")))
}

// TestLateJoinAndCatchUp: a peer that joins after files exist gets them
// all; stopped again, it catches up with edits, additions and deletions
// made meanwhile, and reports what it changed locally while down.
func TestLateJoinAndCatchUp(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		must(os.MkdirAll(filepath.Join(a.root, fmt.Sprintf("d%d", i%3)), 0o755))
		must(os.WriteFile(filepath.Join(a.root, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%d", i)), []byte(fmt.Sprint("content ", i)), 0o644))
	}
	waitFor(t, "a reported its files", func() bool { return a.d.Stats().LocalChanges >= 23 })
	b := n.start(t.TempDir())
	for i := range 20 {
		waitFor(t, "late joiner has every file", fileIs(filepath.Join(b.root, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%d", i)), []byte(fmt.Sprint("content ", i))))
	}
	b.stop()
	must(os.WriteFile(filepath.Join(a.root, "d0", "f0"), []byte("edited while b was down"), 0o644))
	must(os.WriteFile(filepath.Join(a.root, "new"), []byte("added while b was down"), 0o644))
	must(os.RemoveAll(filepath.Join(a.root, "d1")))
	must(os.WriteFile(filepath.Join(b.root, "d2", "from-b"), []byte("made on b while down"), 0o644))
	waitFor(t, "a reported its changes", func() bool { return a.d.Stats().LocalChanges >= 23+2+8 })
	b2 := n.restart(t, b)
	waitFor(t, "edit on b", fileIs(filepath.Join(b2.root, "d0", "f0"), []byte("edited while b was down")))
	waitFor(t, "addition on b", fileIs(filepath.Join(b2.root, "new"), []byte("added while b was down")))
	waitFor(t, "deletion on b", func() bool {
		_, err := os.Lstat(filepath.Join(b2.root, "d1"))
		return errors.Is(err, os.ErrNotExist)
	})
	waitFor(t, "b's offline file on a", fileIs(filepath.Join(a.root, "d2", "from-b"), []byte("made on b while down")))
}

// TestTrackerRestart: peers keep their folders while the tracker is down
// and sync what changed meanwhile once it is back.
func TestTrackerRestart(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	if err := os.WriteFile(filepath.Join(a.root, "before"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "before on b", fileIs(filepath.Join(b.root, "before"), []byte("1")))
	n.stopTracker()
	if err := os.WriteFile(filepath.Join(a.root, "during"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.startTracker()
	waitFor(t, "change made while the tracker was down on b", fileIs(filepath.Join(b.root, "during"), []byte("2")))
}
