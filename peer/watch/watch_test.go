package watch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// collect reads changes until every path in want was reported or the deadline passes.
func collect(t *testing.T, w *Watcher, want ...string) []string {
	t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		missing := false
		for _, p := range want {
			if !slices.Contains(got, p) {
				missing = true
			}
		}
		if !missing {
			return got
		}
		select {
		case c := <-w.C():
			got = append(got, c.Paths...)
		case <-deadline:
			t.Fatalf("reported %q, want all of %q", got, want)
		}
	}
}

func TestWatcherReportsFilesAndNewDirectories(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New(root, Options{Delay: 20 * time.Millisecond, Rescan: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	write := func(rel string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("top.txt")
	write("a/b/deep.txt")
	collect(t, w, "top.txt", "a/b/deep.txt")

	// A new directory is watched as it appears; files in it are reported.
	if err := os.MkdirAll(filepath.Join(root, "new dir", "ünï"), 0o755); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "new dir")
	write("new dir/ünï/f")
	collect(t, w, "new dir/ünï/f")

	// The state directory is ignored.
	if err := os.MkdirAll(filepath.Join(root, ".dartsync"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(".dartsync/x")
	write("after.txt")
	got := collect(t, w, "after.txt")
	for _, p := range got {
		if p == ".dartsync" || p == ".dartsync/x" {
			t.Fatalf("state directory reported: %q", got)
		}
	}

	// A removed directory is dropped from the watch set.
	if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "a")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if !slices.Contains(w.fsw.WatchList(), filepath.Join(root, "a", "b")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removed directory still watched: %q", w.fsw.WatchList())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatcherDebouncesBusyPath(t *testing.T) {
	root := t.TempDir()
	w, err := New(root, Options{Delay: 150 * time.Millisecond, Rescan: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f, err := os.Create(filepath.Join(root, "busy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Write every 20 ms for a while: the path must not be reported while busy.
	stop := time.Now().Add(400 * time.Millisecond)
	var lastWrite time.Time
	for time.Now().Before(stop) {
		if _, err := f.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		lastWrite = time.Now()
		select {
		case c := <-w.C():
			t.Fatalf("reported while busy: %+v", c)
		case <-time.After(20 * time.Millisecond):
		}
	}
	collect(t, w, "busy")
	if q := time.Since(lastWrite); q < 150*time.Millisecond {
		t.Fatalf("reported %v after the last write, want >= delay", q)
	}
}

func TestWatcherPeriodicRescan(t *testing.T) {
	w, err := New(t.TempDir(), Options{Delay: 10 * time.Millisecond, Rescan: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	select {
	case c := <-w.C():
		if !c.All || c.Reason != "periodic rescan" {
			t.Fatalf("got %+v, want a periodic full rescan", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no periodic rescan")
	}
}

func TestWatcherReportsRootAndStateDirectory(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, root string) // the event to report
	}{
		{"state directory created", func(t *testing.T, root string) {
			if err := os.Mkdir(filepath.Join(root, ".dartsync"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"state directory removed", func(t *testing.T, root string) {
			if err := os.RemoveAll(filepath.Join(root, ".dartsync")); err != nil {
				t.Fatal(err)
			}
		}},
		{"root renamed away", func(t *testing.T, root string) {
			if err := os.Rename(root, root+".away"); err != nil {
				t.Fatal(err)
			}
		}},
		{"root removed", func(t *testing.T, root string) {
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "folder")
			if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.name == "state directory removed" {
				if err := os.Mkdir(filepath.Join(root, ".dartsync"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			// A long delay: Root must not wait for quiet.
			w, err := New(root, Options{Delay: time.Hour, Rescan: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			tt.change(t, root)
			select {
			case c := <-w.C():
				if !c.Root || c.All || len(c.Paths) > 0 {
					t.Fatalf("got %+v, want Root only", c)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no Root change reported")
			}
		})
	}
}
