package peer

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/marker"
)

// logRecorder is a slog.Handler that keeps every message (and passes it on
// to testLog's handler).
type logRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
	next slog.Handler
}

func newLogRecorder() (*logRecorder, *slog.Logger) {
	r := &logRecorder{mu: new(sync.Mutex), msgs: new([]string), next: testLog().Handler()}
	return r, slog.New(r)
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.mu.Lock()
	*r.msgs = append(*r.msgs, rec.Message)
	r.mu.Unlock()
	if r.next.Enabled(ctx, rec.Level) {
		return r.next.Handle(ctx, rec)
	}
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{mu: r.mu, msgs: r.msgs, next: r.next.WithAttrs(as)}
}

func (r *logRecorder) WithGroup(g string) slog.Handler {
	return &logRecorder{mu: r.mu, msgs: r.msgs, next: r.next.WithGroup(g)}
}

// count returns how many messages start with prefix.
func (r *logRecorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range *r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// startGuarded starts a daemon on root with state (a new identity the
// first time), logging to log, with a short folder poll. It waits for the
// first registration, not for a scan (a paused folder has none).
func (n *testNet) startGuarded(root, state string, rec *logRecorder, log *slog.Logger, tweak ...func(*Config)) *testPeer {
	n.t.Helper()
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.t.Fatal(err)
	}
	before := rec.count("registered with tracker")
	cfg := Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		FolderPoll: 50 * time.Millisecond, Log: log,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	n.t.Cleanup(p.stop)
	waitFor(n.t, "registration", func() bool { return rec.count("registered with tracker") > before })
	return p
}

// readTestTree maps every path below root (the state directory excluded)
// to its content ("dir" for directories).
func readTestTree(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case rel == ".":
			return nil
		case rel == manifest.StateDir:
			return filepath.SkipDir
		case d.IsDir():
			out[filepath.ToSlash(rel)] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	return out, err
}

func treeOf(t testing.TB, root string) map[string]string {
	t.Helper()
	tr, err := readTestTree(root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func treeIs(root string, want map[string]string) func() bool {
	return func() bool {
		got, err := readTestTree(root)
		return err == nil && maps.Equal(got, want)
	}
}

// markedPair starts a and b (states outside their folders) with files on a,
// synced to b.
func markedPair(t *testing.T, n *testNet, files int) (a, b *testPeer, aRec *logRecorder, aLog *slog.Logger, want map[string]string) {
	t.Helper()
	aRec, aLog = newLogRecorder()
	bRec, bLog := newLogRecorder()
	aRoot := filepath.Join(t.TempDir(), "a")
	for i := range files {
		writeTestFile(t, aRoot, fmt.Sprintf("d%d/f%02d.txt", i%3, i), fmt.Sprintf("file %d\n", i))
	}
	a = n.startGuarded(aRoot, filepath.Join(t.TempDir(), "state-a"), aRec, aLog)
	waitFor(t, "a's first scan", func() bool { return a.d.Stats().ScansCompleted > 0 })
	b = n.startGuarded(filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "state-b"), bRec, bLog)
	want = treeOf(t, aRoot)
	waitFor(t, "b synced", treeIs(b.root, want))
	return a, b, aRec, aLog, want
}

func writeTestFile(t testing.TB, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keeps checks for a while that root still equals want (and dies at the
// first difference), and that peer p reported no local change.
func keeps(t *testing.T, root string, want map[string]string, p *testPeer, changes int64, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !treeIs(root, want)() {
			t.Fatalf("%s changed while the other folder was paused: %v", root, treeOf(t, root))
		}
		if got := p.d.Stats().LocalChanges; got != changes {
			t.Fatalf("paused peer reported %d local changes", got-changes)
		}
	}
}

func TestFolderMarkedOnFirstStart(t *testing.T) {
	n := newTestNet(t)
	rec, log := newLogRecorder()
	root := filepath.Join(t.TempDir(), "not", "there", "yet")
	state := filepath.Join(t.TempDir(), "state")
	p := n.startGuarded(root, state, rec, log)
	m, err := marker.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	want := marker.Marker{Version: m.Version, Folder: "", Device: p.d.ID().String(), StateDir: state, Control: localapi.ControlPath(state)}
	if m != want || m.Version < 1 {
		t.Fatalf("marker %+v, want %+v", m, want)
	}
	waitFor(t, "first scan", func() bool { return p.d.Stats().ScansCompleted > 0 })
	if s := p.d.Stats(); s.Paused {
		t.Fatalf("a first start is paused: %q", s.PausedReason)
	}
}

// TestFolderGoneWhileRunning: the folder's marker vanishes while the peer
// runs (removed, or the disk unmounted: an empty directory in its place).
// Nothing it no longer sees is reported deleted, the other peer keeps
// every file, and once the marker is back the changes made meanwhile on
// both sides converge.
func TestFolderGoneWhileRunning(t *testing.T) {
	tests := []struct {
		name string
		// gone makes the marker vanish and returns the directory holding
		// the real folder meanwhile; back restores it.
		gone func(t *testing.T, root string) string
		back func(t *testing.T, root, real string)
		// lost is deleted in the real folder while paused: a real
		// deletion, reported once the folder is back.
		lost string
	}{
		{
			name: "marker removed",
			gone: func(t *testing.T, root string) string {
				mustDo(t, os.Rename(marker.Path(root), marker.Path(root)+".saved"))
				mustDo(t, os.Remove(filepath.Join(root, "d1/f01.txt"))) // also gone meanwhile
				return root
			},
			back: func(t *testing.T, root, _ string) {
				mustDo(t, os.Rename(marker.Path(root)+".saved", marker.Path(root)))
			},
			lost: "d1/f01.txt",
		},
		{
			name: "disk unmounted",
			gone: func(t *testing.T, root string) string {
				disk, err := unmount(root)
				mustDo(t, err)
				return disk
			},
			back: mount,
			lost: "d2/f02.txt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNet(t)
			a, b, aRec, _, want := markedPair(t, n, 12)
			changes := a.d.Stats().LocalChanges
			real := tt.gone(t, a.root)
			waitFor(t, "a paused", func() bool { return a.d.Stats().Paused })
			// Whatever triggers a scan now (the deletion's event, a kick)
			// must report nothing.
			kick(a.d.folders[0].scanKick)
			keeps(t, b.root, want, a, changes, time.Second)
			if got := aRec.count("folder paused"); got != 1 {
				t.Fatalf("%d 'folder paused' lines, want 1", got)
			}
			if a.d.Stats().PausedReason == "" {
				t.Fatal("paused without a reason in stats")
			}
			// Changes while paused: on b, and in the real folder of a.
			writeTestFile(t, b.root, "d0/f03.txt", "edited on b\n")
			writeTestFile(t, b.root, "new on b.txt", "new\n")
			writeTestFile(t, real, "d2/f05.txt", "edited on a while away\n")
			if tt.name == "disk unmounted" {
				mustDo(t, os.Remove(filepath.Join(real, tt.lost)))
			}
			want["d0/f03.txt"] = "edited on b\n"
			want["new on b.txt"] = "new\n"
			want["d2/f05.txt"] = "edited on a while away\n"
			delete(want, tt.lost)
			waitFor(t, "a told of b's new file", func() bool {
				_, ok := a.d.folders[0].idx.WantID("new on b.txt")
				return ok
			})
			kick(a.d.folders[0].pullKick)
			time.Sleep(200 * time.Millisecond) // a pull's time, if it were not paused
			if p := filepath.Join(a.root, "new on b.txt"); fileExists(p) {
				t.Fatal("a paused folder received a file")
			}
			tt.back(t, a.root, real)
			waitFor(t, "a resumed", func() bool { return !a.d.Stats().Paused })
			waitFor(t, "a converged", treeIs(a.root, want))
			waitFor(t, "b converged", treeIs(b.root, want))
		})
	}
}

// TestFolderMissingAtStart: a peer whose index holds files starts on a
// missing folder or an empty mount point: it pauses, creates nothing in
// it, the other peer keeps every file, and it resumes once the folder is
// back.
func TestFolderMissingAtStart(t *testing.T) {
	for _, empty := range []bool{false, true} {
		name := "missing"
		if empty {
			name = "empty mount point"
		}
		t.Run(name, func(t *testing.T) {
			n := newTestNet(t)
			a, b, aRec, aLog, want := markedPair(t, n, 9)
			a.stop()
			real := a.root + ".away"
			mustDo(t, os.Rename(a.root, real))
			if empty {
				mustDo(t, os.Mkdir(a.root, 0o755))
			}
			a2 := n.startGuarded(a.root, a.d.cfg.StateDir, aRec, aLog)
			if s := a2.d.Stats(); !s.Paused {
				t.Fatal("started on a missing folder, not paused")
			}
			keeps(t, b.root, want, a2, 0, time.Second)
			if empty {
				if ents, err := os.ReadDir(a.root); err != nil || len(ents) > 0 {
					t.Fatalf("paused folder: %d entries created (%v)", len(ents), err)
				}
			} else if fileExists(a.root) {
				t.Fatal("paused folder created")
			}
			if got := aRec.count("folder paused"); got != 1 {
				t.Fatalf("%d 'folder paused' lines, want 1 (not one per check)", got)
			}
			writeTestFile(t, b.root, "while away.txt", "b\n")
			want["while away.txt"] = "b\n"
			if empty {
				mustDo(t, os.Remove(a.root))
			}
			mustDo(t, os.Rename(real, a.root))
			waitFor(t, "a resumed", func() bool { return !a2.d.Stats().Paused })
			waitFor(t, "a converged", treeIs(a.root, want))
			waitFor(t, "b converged", treeIs(b.root, want))
		})
	}
}

// TestUnmountDuringScanReportsNothing unplugs the disk (an empty directory
// replaces the folder at once) at moments spread over a scan of a few
// thousand files, and plugs it back as soon as the folder is paused, often
// while that scan still runs. Neither the files the walk listed but then
// found gone nor those it never saw are reported deleted: nothing is
// reported at all.
func TestUnmountDuringScanReportsNothing(t *testing.T) {
	const files = 3000
	n := newTestNet(t)
	rec, log := newLogRecorder()
	root := filepath.Join(t.TempDir(), "a")
	for i := range files {
		writeTestFile(t, root, fmt.Sprintf("f%05d", i), "")
	}
	a := n.startGuarded(root, filepath.Join(t.TempDir(), "state"), rec, log, func(c *Config) {
		c.Debounce = time.Hour // scans only when kicked
	})
	waitFor(t, "first scan", func() bool { return a.d.Stats().LocalChanges == files })
	// scan has the scan loop run a scan and returns how long it took.
	scan := func() time.Duration {
		before, begin := a.d.Stats().ScansCompleted, time.Now()
		kick(a.d.folders[0].scanKick)
		for a.d.Stats().ScansCompleted == before {
			if time.Since(begin) > 30*time.Second {
				t.Fatal("no scan")
			}
			time.Sleep(time.Millisecond)
		}
		return time.Since(begin)
	}
	took := scan()
	const steps = 12
	for i := range steps {
		at := took * time.Duration(i) / steps
		scans := a.d.Stats().ScansCompleted
		kick(a.d.folders[0].scanKick)
		time.Sleep(at)
		disk, err := unmount(root)
		mustDo(t, err)
		waitFor(t, "paused", func() bool { return a.d.Stats().Paused })
		mount(t, root, disk)
		waitFor(t, "resumed and scanned", func() bool {
			s := a.d.Stats()
			return !s.Paused && s.ScansCompleted > scans
		})
		if got := a.d.Stats().LocalChanges; got != files {
			t.Fatalf("step %d (%v into a %v scan): %d changes reported", i, at, took, got-files)
		}
	}
	scan()
	scan() // the last one began after every earlier one ended
	if got := a.d.Stats().LocalChanges; got != files {
		t.Fatalf("%d changes reported", got-files)
	}
	t.Logf("scan of %d files: %v; %d of %d unplugs came during a scan", files, took,
		rec.count("folder paused during the scan"), steps)
}
