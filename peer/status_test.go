package peer

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/localapi"
)

// TestDaemonStatus: after a file syncs, the receiver's Status counts it
// in sync, names the sender online with its address, shows the tracker
// connected, and its event stream carried the applied file; the same
// status is served on the control socket. Once the sender stops, it is
// offline with the time it was last seen.
func TestDaemonStatus(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	sub := b.d.Events().Subscribe()
	defer sub.Close()
	data := bytes.Repeat([]byte("status "), 10000)
	if err := os.WriteFile(filepath.Join(a.root, "f.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.root, "g.sync-conflict-20261203-101010-ABCDEFG.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "file on b", fileIs(filepath.Join(b.root, "f.txt"), data))
	size := int64(len(data) + 1)
	var st localapi.Status
	waitFor(t, "b's status counts both files in sync", func() bool {
		st = b.d.Status()
		f := st.Folders[0]
		return f.Files == 2 && f.FilesInSync == 2 && f.Bytes == size && f.BytesInSync == size && f.State == localapi.StateIdle
	})
	if st.Device != b.d.ID().String() || st.Short != b.d.ID().Short() || !st.Tracker.Connected || st.Listen == "" || st.Started.IsZero() {
		t.Errorf("status header %+v", st)
	}
	if len(st.Peers) != 1 || st.Peers[0].Device != a.d.ID().String() || !st.Peers[0].Online ||
		!strings.HasPrefix(st.Peers[0].Addr, "127.0.0.1:") || st.Peers[0].Short != a.d.ID().Short() {
		t.Errorf("peers %+v, want a online", st.Peers)
	}
	want := localapi.Conflict{Folder: "", Path: "g.sync-conflict-20261203-101010-ABCDEFG.txt", Original: "g.txt",
		Device: "ABCDEFG", Time: time.Date(2026, 12, 3, 10, 10, 10, 0, time.UTC)}
	if len(st.Conflicts) != 1 || st.Conflicts[0] != want {
		t.Errorf("conflicts %+v, want %+v", st.Conflicts, want)
	}
	applied := false
	for !applied {
		select {
		case e := <-sub.C:
			applied = e.Type == localapi.EventApplied && e.Path == "f.txt"
		case <-time.After(10 * time.Second):
			t.Fatal("no applied event for f.txt")
		}
	}
	c := localapi.NewClient(localapi.ControlPath(b.d.cfg.StateDir))
	defer c.Close()
	got, err := c.Status(context.Background())
	if err != nil || got.Device != st.Device || len(got.Folders) != 1 || got.Folders[0].Files != 2 {
		t.Fatalf("status over the control socket: %+v, %v", got, err)
	}

	a.stop()
	waitFor(t, "a offline in b's status", func() bool {
		ps := b.d.Status().Peers
		return len(ps) == 1 && !ps[0].Online && !ps[0].LastSeen.IsZero()
	})
}

// TestErrorRing: warnings and errors are kept (newest last, at most
// errorRingSize) with their path in its own field; info lines are not.
func TestErrorRing(t *testing.T) {
	bus := localapi.NewBus()
	sub := bus.Subscribe()
	defer sub.Close()
	r := newErrorRing(bus)
	lost := 0
	r.onTrackerLost(func() { lost++ })
	var out bytes.Buffer
	log := r.wrap(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError})))
	log.Info("fine")
	log.With("folder", "photos").Warn("fetch", "path", "a/b.jpg", "err", "no source")
	log.Warn(trackerLostMsg+"; reconnecting", "in", "1s")
	tests := []struct {
		i                     int
		folder, path, message string
	}{
		{0, "photos", "a/b.jpg", "fetch err=no source"},
		{1, "", "", trackerLostMsg + "; reconnecting in=1s"},
	}
	got := r.list()
	if len(got) != len(tests) {
		t.Fatalf("kept %d errors: %+v", len(got), got)
	}
	for _, tt := range tests {
		e := got[tt.i]
		if e.Folder != tt.folder || e.Path != tt.path || e.Message != tt.message || e.Time.IsZero() {
			t.Errorf("error %d: %+v, want folder %q path %q message %q", tt.i, e, tt.folder, tt.path, tt.message)
		}
	}
	if lost != 1 {
		t.Errorf("tracker lost seen %d times, want 1", lost)
	}
	if out.Len() != 0 {
		t.Errorf("warnings passed to a logger at error level: %q", out.String())
	}
	if e := <-sub.C; e.Type != localapi.EventError || e.Path != "a/b.jpg" {
		t.Errorf("first event %+v, want the error", e)
	}
	for i := range errorRingSize + 5 {
		log.Error("e", "n", i)
	}
	got = r.list()
	if len(got) != errorRingSize || got[len(got)-1].Message != "e n=24" {
		t.Fatalf("ring of %d, last %+v", len(got), got[len(got)-1])
	}
}

// TestParseConflict: conflict copy names (tracker.ConflictName) and names
// that are not.
func TestParseConflict(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 10, 10, 0, time.UTC)
	tests := []struct {
		path     string
		original string
		device   string
		ok       bool
	}{
		{"a.sync-conflict-20261203-101010-ABCDEFG.txt", "a.txt", "ABCDEFG", true},
		{"dir/a.tar.sync-conflict-20261203-101010-ABCDEFG.gz", "dir/a.tar.gz", "ABCDEFG", true},
		{"Makefile.sync-conflict-20261203-101010-ABCDEFG", "Makefile", "ABCDEFG", true},
		{"a.sync-conflict-20261203-101010-ABCDEFG-2.txt", "a.txt", "ABCDEFG", true},
		{".bashrc.sync-conflict-20261203-101010-ABCDEFG", ".bashrc", "ABCDEFG", true},
		{"a.txt", "", "", false},
		{".sync-conflict-20261203-101010-ABCDEFG", "", "", false},
		{"a.sync-conflict-2026120-101010-ABCDEFG.txt", "", "", false},
		{"a.sync-conflict-20261303-101010-ABCDEFG.txt", "", "", false},
		{"a.sync-conflict-20261203-101010-.txt", "", "", false},
		{"a.sync-conflict-20261203-101010", "", "", false},
	}
	for _, tt := range tests {
		c, ok := parseConflict("f", tt.path)
		if ok != tt.ok {
			t.Errorf("%s: ok %v, want %v", tt.path, ok, tt.ok)
			continue
		}
		if ok && (c.Original != tt.original || c.Device != tt.device || !c.Time.Equal(at) || c.Folder != "f" || c.Path != tt.path) {
			t.Errorf("%s: %+v, want original %s device %s", tt.path, c, tt.original, tt.device)
		}
	}
}

// FuzzParseConflict: any name parses or not, never panics, and a parsed
// name's original keeps its directory.
func FuzzParseConflict(f *testing.F) {
	f.Add("a/b.sync-conflict-20261203-101010-ABCDEFG.txt")
	f.Add(".sync-conflict-")
	f.Add("x.sync-conflict-20261203-101010-A-.")
	f.Fuzz(func(t *testing.T, p string) {
		c, ok := parseConflict("", p)
		if !ok {
			return
		}
		if dir := filepath.Dir(p); !strings.HasPrefix(c.Original, strings.TrimSuffix(dir, ".")) || c.Device == "" {
			t.Fatalf("%q parsed as %+v", p, c)
		}
	})
}

// TestStatusLeavesIgnoredOut: a remote file this device ignores is not
// counted (its want stays stored, never pulled): the folder is in sync.
func TestStatusLeavesIgnoredOut(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	for name, data := range map[string]string{"keep.txt": "keep", "skip.bin": "skip"} {
		if err := os.WriteFile(filepath.Join(a.root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a reported both", func() bool { return a.d.Stats().LocalChanges >= 2 })
	bRoot := t.TempDir()
	if err := os.WriteFile(filepath.Join(bRoot, ignore.FileName), []byte("skip.bin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := n.start(bRoot)
	waitFor(t, "keep.txt on b", fileIs(filepath.Join(bRoot, "keep.txt"), []byte("keep")))
	var f localapi.Folder
	waitFor(t, "b in sync without skip.bin", func() bool {
		f = b.d.Status().Folders[0]
		return f.Files == 2 && f.FilesInSync == 2 && f.State == localapi.StateIdle
	})
	if _, err := os.Stat(filepath.Join(bRoot, "skip.bin")); err == nil {
		t.Fatal("skip.bin was pulled")
	}
}
