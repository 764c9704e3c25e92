package manifest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// BuildFile returns the manifest of root/rel (rel is a folder-relative path,
// checked with ValidatePath): for a regular file Build's result with Path,
// ModTime (ns) and Exec (any execute bit) filled; for a directory NewDir.
// A symlink (at rel itself), device or other special file gives
// ErrNotRegular; a file whose size or modification time changed while it was
// read gives ErrChanged. Base is left for the caller.
func BuildFile(ctx context.Context, root, rel string, pieceSize int64) (Manifest, error) {
	if err := ValidatePath(rel); err != nil {
		return Manifest{}, err
	}
	if err := CheckPieceSize(pieceSize); err != nil {
		return Manifest{}, err
	}
	full := filepath.Join(root, filepath.FromSlash(rel))
	lst, err := os.Lstat(full)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	switch {
	case lst.IsDir():
		return NewDir(rel, lst.ModTime().UnixNano()), nil
	case !lst.Mode().IsRegular():
		return Manifest{}, fmt.Errorf("manifest: %s: %w (%s)", rel, ErrNotRegular, lst.Mode().Type())
	}
	f, err := os.Open(full)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if !os.SameFile(lst, before) {
		return Manifest{}, fmt.Errorf("manifest: %s: %w (replaced while opening)", rel, ErrChanged)
	}
	if err := CheckSize(before.Size(), pieceSize); err != nil {
		return Manifest{}, fmt.Errorf("manifest: %s: %w", rel, err) // refused before reading
	}
	m, err := build(ctx, f, pieceSize, before.Size(), MaxPieces)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %s: %w", rel, err)
	}
	after, err := f.Stat()
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if changed(before, after) || m.Size != before.Size() {
		return Manifest{}, fmt.Errorf("manifest: %s: %w", rel, ErrChanged)
	}
	m.Path = rel
	m.ModTime = before.ModTime().UnixNano()
	m.Exec = isExec(before.Mode())
	return m, nil
}

func changed(a, b fs.FileInfo) bool {
	return a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime())
}

// isExec reports whether any execute bit is set.
func isExec(mode fs.FileMode) bool { return mode.Perm()&0o111 != 0 }
