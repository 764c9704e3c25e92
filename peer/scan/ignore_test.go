package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanIgnore: paths Options.Ignore names are neither listed nor
// skipped, and an ignored directory is not entered (its unreadable
// subdirectory is no Skip either).
func TestScanIgnore(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a.txt", "a.log", "sub/b.log", "sub/c.txt", "build/out.bin", "build/deep/x.txt"} {
		write(t, root, p, []byte(p), 0o644)
	}
	if err := os.Chmod(filepath.Join(root, "build", "deep"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "build", "deep"), 0o755) })
	var asked []string
	ignore := func(p string, isDir bool) bool {
		asked = append(asked, p)
		return strings.HasSuffix(p, ".log") || (isDir && p == "build")
	}
	res, err := Scan(context.Background(), root, Options{PieceSize: ps, Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, e.Manifest.Path)
	}
	if want := []string{"a.txt", "sub", "sub/c.txt"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v, want none", res.Skipped)
	}
	for _, p := range asked {
		if strings.HasPrefix(p, "build/") {
			t.Errorf("asked about %s inside an ignored directory", p)
		}
	}
}
