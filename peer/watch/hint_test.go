package watch

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestWatcherCompletionHints: with a debounce of an hour, a file closed
// after writing and files or directories renamed into the folder are still
// reported (Linux: inotify's close-write and moved-to), and a file still
// open for writing is not.
func TestWatcherCompletionHints(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("completion hints are Linux only")
	}
	root := t.TempDir()
	outside := t.TempDir() // same file system as root
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New(root, Options{Delay: time.Hour, Rescan: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	open, err := os.Create(filepath.Join(root, "still-open.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := open.WriteString("half"); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(filepath.Join(root, "sub", "closed.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := collect(t, w, "sub/closed.txt")

	if err := os.WriteFile(filepath.Join(outside, "f"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(outside, "f"), filepath.Join(root, "renamed-in.txt")); err != nil {
		t.Fatal(err)
	}
	got = append(got, collect(t, w, "renamed-in.txt")...)

	if err := os.MkdirAll(filepath.Join(outside, "dir", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(outside, "dir"), filepath.Join(root, "dir-in")); err != nil {
		t.Fatal(err)
	}
	got = append(got, collect(t, w, "dir-in")...)

	if slices.Contains(got, "still-open.txt") {
		t.Errorf("a file still open for writing was reported before the debounce: %q", got)
	}
	// Once closed, it is complete.
	if err := open.Close(); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "still-open.txt")
}

func TestQuietSet(t *testing.T) {
	const delay, settle = time.Second, 20 * time.Millisecond
	t0 := time.Now().Add(time.Hour) // far enough that no timer fires during the test
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type step struct {
		hint bool
		at   int // ms after t0
	}
	tests := []struct {
		name  string
		steps []step
		due   time.Time
	}{
		{"one write", []step{{false, 0}}, ms(1000)},
		{"writes debounce", []step{{false, 0}, {false, 500}}, ms(1500)},
		{"closed after writing", []step{{false, 0}, {false, 5}, {true, 10}}, ms(30)},
		{"write event read after its close", []step{{true, 10}, {false, 12}}, ms(32)},
		{"event after the grace", []step{{true, 0}, {false, 300}}, ms(1300)},
		{"written again and closed", []step{{true, 0}, {false, 40}, {true, 45}}, ms(65)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQuietSet(delay, settle)
			defer q.stop()
			for _, s := range tc.steps {
				if s.hint {
					q.hint("p", ms(s.at))
				} else {
					q.touch("p", ms(s.at))
				}
			}
			if got := q.due["p"]; !got.Equal(tc.due) {
				t.Errorf("due %v after t0, want %v", got.Sub(t0), tc.due.Sub(t0))
			}
			if got := q.ripe(tc.due.Add(-time.Nanosecond)); len(got) != 0 {
				t.Errorf("ripe before due: %q", got)
			}
			if got := q.ripe(tc.due); !slices.Equal(got, []string{"p"}) {
				t.Errorf("ripe at due: %q, want [p]", got)
			}
		})
	}
}

// TestWatcherCloseWithoutEvents: Close returns while nothing happens in the
// folder (the hint reader's Read must end with Close, not with the next
// event).
func TestWatcherCloseWithoutEvents(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New(root, Options{Delay: time.Hour, Rescan: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		collect(t, w, "a/f")
	}
	if err := os.MkdirAll(filepath.Join(root, "a", "c"), 0o755); err != nil { // a hint watch added by the goroutine
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the watcher add it; nothing happens after
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return while the folder was quiet")
	}
}
