package scan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestScanSkipsFileOverMaxFileSize: a file larger than manifest.MaxFileSize
// (sparse here) is skipped with an error naming the limit, without being
// read, and the other files are scanned.
func TestScanSkipsFileOverMaxFileSize(t *testing.T) {
	root := t.TempDir()
	f, err := os.Create(filepath.Join(root, "huge.img"))
	if err != nil {
		t.Fatal(err)
	}
	err = f.Truncate(manifest.MaxFileSize + 1)
	f.Close()
	if err != nil {
		t.Skipf("no sparse file of %d bytes here: %v", int64(manifest.MaxFileSize+1), err)
	}
	write(t, root, "small", []byte("small"), 0o644)
	res, err := Scan(context.Background(), root, Options{PieceSize: manifest.DefaultPieceSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].Manifest.Path != "small" {
		t.Fatalf("entries %+v", res.Entries)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "huge.img" || !errors.Is(res.Skipped[0].Err, manifest.ErrTooLarge) {
		t.Fatalf("skipped %+v, want huge.img with ErrTooLarge", res.Skipped)
	}
}
