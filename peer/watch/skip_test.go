package watch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatcherSkipsDirectories: a directory Options.Skip names, existing or
// new, is not watched: nothing written below it is reported.
func TestWatcherSkipsDirectories(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"build/sub", "src"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	skip := func(dir string) bool { return dir == "build" || strings.HasSuffix(dir, "/cache") }
	w, err := New(root, Options{Delay: 20 * time.Millisecond, Rescan: -1, Skip: skip})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := os.MkdirAll(filepath.Join(root, "src", "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	collect(t, w, "src/cache") // the new directory itself is an event of src
	for _, rel := range []string{"build/a.o", "build/sub/b.o", "src/cache/c", "src/main.go"} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, w, "src/main.go")
	for _, p := range got {
		if strings.HasPrefix(p, "build/") || strings.HasPrefix(p, "src/cache/") {
			t.Errorf("reported %s below a skipped directory (all: %q)", p, got)
		}
	}
}
