package peer

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// tmpfsFolder mounts a tmpfs of size bytes at a new directory and returns
// it; the test is skipped where that cannot be done (not root). It is
// unmounted in Cleanup, after the peers that use it stopped.
func tmpfsFolder(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	mustDo(t, os.Mkdir(dir, 0o755))
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// resizeTmpfs remounts the tmpfs at dir with size bytes (the same mount).
func resizeTmpfs(t *testing.T, dir string, size int64) {
	t.Helper()
	mustDo(t, unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT, "size="+strconv.FormatInt(size, 10)))
}

// startInside starts a peer on root whose state (index, chunk store,
// partials) is root/.dartsync, on the folder's file system, as it is by
// default; rec records its log.
func (n *testNet) startInside(root string, tweak ...func(*Config)) (*testPeer, *logRecorder) {
	n.t.Helper()
	rec, log := newLogRecorder()
	id, err := identity.LoadOrCreate(n.t.TempDir())
	if err != nil {
		n.t.Fatal(err)
	}
	cfg := Config{
		Root: root, StateDir: filepath.Join(root, manifest.StateDir), Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		FolderPoll: 50 * time.Millisecond, Log: log,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return n.run(cfg), rec
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestDiskFullExplore(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, rec := n.startInside(tmpfsFolder(t, 3<<20))
	v1 := randomBytes(256<<10, 1)
	writeTestFile(t, a.root, "small.txt", "hello")
	replaceFile(t, filepath.Join(a.root, "big.bin"), v1)
	waitFor(t, "b has v1", fileIs(filepath.Join(b.root, "big.bin"), v1))
	v2 := randomBytes(4<<20, 2)
	replaceFile(t, filepath.Join(a.root, "big.bin"), v2)
	time.Sleep(3 * time.Second)
	t.Logf("status: %+v", b.d.Status())
	rec.mu.Lock()
	t.Logf("log: %q", *rec.msgs)
	rec.mu.Unlock()
	got, _ := os.ReadFile(filepath.Join(b.root, "big.bin"))
	t.Logf("old intact: %v", bytes.Equal(got, v1))
}
