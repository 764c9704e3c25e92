package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// errDiskFull stands for the write error of a full disk.
var errDiskFull = errors.New("no space left on device (injected)")

// failingWriter is the daemon's index, except that while fail is set every
// write fails as a full disk would, writing nothing (the paths of the wants
// it failed to store are kept in lost); while gate is set, every write
// waits for a value from it first.
type failingWriter struct {
	x    *index.Index
	fail atomic.Bool
	gate chan struct{}

	mu   sync.Mutex
	lost map[string]bool
}

func (w *failingWriter) Update(b index.Batch) error {
	if w.gate != nil {
		<-w.gate
	}
	if w.fail.Load() {
		w.mu.Lock()
		if w.lost == nil {
			w.lost = make(map[string]bool)
		}
		for _, x := range b.Wants {
			w.lost[x.Manifest.Path] = true
		}
		w.mu.Unlock()
		return errDiskFull
	}
	return w.x.Update(b)
}

// failedToStore reports whether a failed write had a want for path.
func (w *failingWriter) failedToStore(path string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost[path]
}

func entry(t *testing.T, path, data string, seq uint64) tracker.Entry {
	t.Helper()
	return tracker.Entry{Manifest: version(t, path, []byte(data), time.Unix(1_700_000_000, 0)), Seq: seq,
		Owners: []identity.DeviceID{{1}}}
}

// TestUpdatesKeptWhenIndexWriteFails: tracker updates whose index write
// fails are held, not dropped: a later batch that is written stores them
// too, and the stored sequence never passes an update not stored.
func TestUpdatesKeptWhenIndexWriteFails(t *testing.T) {
	d := applyFixture(t)
	fw := &failingWriter{x: d.idx}
	d.writes.w = fw
	h := d.handler

	fw.fail.Store(true)
	h.Updates([]tracker.Entry{entry(t, "a", "first", 5), entry(t, "b", "first", 6)})
	if got := d.idx.Seq(); got != 0 {
		t.Fatalf("Seq = %d after a failed write, want 0", got)
	}
	if got := d.writes.count(); got != 2 {
		t.Fatalf("held %d updates, want 2", got)
	}
	// Another batch while the disk is still full: held with the first.
	h.Updates([]tracker.Entry{entry(t, "b", "second", 7)})
	if got := d.idx.Seq(); got != 0 {
		t.Fatalf("Seq = %d after a failed write, want 0", got)
	}
	// The pull applies nothing while updates are held.
	if _, err := d.pull.pull(context.Background()); !errors.Is(err, errDiskFull) {
		t.Fatalf("pull with held updates: err %v, want the write error", err)
	}

	fw.fail.Store(false)
	h.Updates([]tracker.Entry{entry(t, "c", "third", 8)})
	if got := d.idx.Seq(); got != 8 {
		t.Errorf("Seq = %d, want 8", got)
	}
	if got := d.writes.count(); got != 0 {
		t.Errorf("%d updates still held", got)
	}
	for path, data := range map[string]string{"a": "first", "b": "second", "c": "third"} {
		id, ok := d.idx.WantID(path)
		if want := version(t, path, []byte(data), time.Time{}).ID; !ok || id != want {
			t.Errorf("want for %s: %v %v, want version %q", path, id.Short(), ok, data)
		}
	}
}

// TestHeldUpdatesRetriedByPull: held updates are stored by the pull loop's
// retry even when no further update comes.
func TestHeldUpdatesRetriedByPull(t *testing.T) {
	d := applyFixture(t)
	fw := &failingWriter{x: d.idx}
	d.writes.w = fw
	fw.fail.Store(true)
	d.handler.Updates([]tracker.Entry{entry(t, "a", "v", 3)})
	fw.fail.Store(false)
	if _, err := d.pull.pull(context.Background()); err != nil {
		t.Fatalf("pull after the disk recovered: %v", err)
	}
	if _, ok := d.idx.WantID("a"); !ok || d.idx.Seq() != 3 {
		t.Errorf("want stored %v, Seq %d; want true, 3", ok, d.idx.Seq())
	}
}

// TestForgottenWantsHeldUntilStored: when the write that forgets the wants
// a local change made obsolete fails (record), no pull runs until it is
// stored; then the obsolete want is gone, while a want announced after the
// change stays.
func TestForgottenWantsHeldUntilStored(t *testing.T) {
	d := applyFixture(t)
	fw := &failingWriter{x: d.idx}
	d.writes.w = fw
	old, newer := entry(t, "p", "older remote version", 4), entry(t, "q", "announced later", 12)
	if err := d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: old.Manifest, Seq: 4}, {Manifest: newer.Manifest, Seq: 12}}}); err != nil {
		t.Fatal(err)
	}
	fw.fail.Store(true)
	if err := d.writes.forgetWants([]index.Done{{Path: "p", Before: 10}, {Path: "q", Before: 10}}); !errors.Is(err, errDiskFull) {
		t.Fatalf("forgetWants: err %v, want the write error", err)
	}
	if _, err := d.pull.pull(context.Background()); err == nil {
		t.Fatal("pull ran with forgotten wants not stored")
	}
	if _, ok := d.idx.WantID("p"); !ok {
		t.Fatal("want forgotten by a failed write")
	}
	fw.fail.Store(false)
	if _, err := d.pull.pull(context.Background()); err != nil {
		t.Fatalf("pull after the disk recovered: %v", err)
	}
	if _, ok := d.idx.WantID("p"); ok {
		t.Error("obsolete want still stored")
	}
	if _, ok := d.idx.WantID("q"); !ok {
		t.Error("want announced after the change forgotten")
	}
}

// TestUpdateForPathBeingAppliedWaits: an update for a path whose apply is
// under way is stored only once the apply ended (the stored sequence stays
// below it meanwhile), and an apply cannot begin on a path whose want is
// being replaced: a version renamed into place is always either its stored
// want or in the index.
func TestUpdateForPathBeingAppliedWaits(t *testing.T) {
	d := applyFixture(t)
	if !d.state.beginApply("busy") {
		t.Fatal("beginApply")
	}
	d.handler.Updates([]tracker.Entry{entry(t, "busy", "v2", 7), entry(t, "free", "v", 8)})
	if _, ok := d.idx.WantID("busy"); ok {
		t.Error("want replaced while its path is being applied")
	}
	if _, ok := d.idx.WantID("free"); !ok {
		t.Error("want of another path not stored")
	}
	if got := d.idx.Seq(); got != 6 {
		t.Errorf("Seq = %d, want 6 (below the update held)", got)
	}
	d.state.endApply("busy")
	if _, err := d.pull.pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.idx.WantID("busy"); !ok || d.idx.Seq() != 8 {
		t.Errorf("after the apply: want stored %v, Seq %d; want true, 8", ok, d.idx.Seq())
	}

	// While a want is being replaced, its path cannot begin an apply.
	fw := &failingWriter{x: d.idx, gate: make(chan struct{})}
	d.writes.w = fw
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		d.handler.Updates([]tracker.Entry{entry(t, "busy", "v3", 9)})
	}()
	waitFor(t, "the write under way", func() bool {
		d.state.mu.Lock()
		defer d.state.mu.Unlock()
		return d.state.storing["busy"]
	})
	if d.state.beginApply("busy") {
		t.Error("apply began while its want was being replaced")
		d.state.endApply("busy")
	}
	fw.gate <- struct{}{}
	<-stored
	if !d.state.beginApply("busy") {
		t.Error("apply refused after the write")
	}
	d.state.endApply("busy")
}

// TestIndexWriteFailureRecovers: two daemons over QUIC; the receiver's
// index cannot be written for a while (a full disk) as a file is
// announced. Once it can, the file arrives, also when the sequence moved on
// past it meanwhile.
func TestIndexWriteFailureRecovers(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	fw := &failingWriter{}
	b := n.startPrepared(t.TempDir(), func(d *Daemon) { fw.x = d.folders[0].idx; d.folders[0].writes.w = fw })
	fw.fail.Store(true)
	if err := os.WriteFile(filepath.Join(a.root, "during"), []byte("announced while b's disk is full"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b failed to store the update", func() bool { return fw.failedToStore("during") })
	fw.fail.Store(false)
	if err := os.WriteFile(filepath.Join(a.root, "after"), []byte("announced later"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "later file on b", fileIs(filepath.Join(b.root, "after"), []byte("announced later")))
	waitFor(t, "file announced during the failure on b", fileIs(filepath.Join(b.root, "during"), []byte("announced while b's disk is full")))
}

// startPrepared is start with prep applied to the daemon before it runs.
func (n *testNet) startPrepared(root string, prep func(*Daemon)) *testPeer {
	n.t.Helper()
	state := filepath.Join(n.t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.t.Fatal(err)
	}
	d, err := New(Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		n.t.Fatal(err)
	}
	prep(d)
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	n.t.Cleanup(p.stop)
	p.registered(n.t)
	return p
}
