package peer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

// parents says whether target creates the missing parent directories.
type parents bool

const (
	createParents   parents = true  // missing parents are created (a write)
	existingParents parents = false // missing parents are not (a read, a delete)
)

// target validates rel and returns its absolute path below root, after
// checking that every existing parent component is a real directory (not a
// symlink). With createParents, missing parents are created (and returned,
// in order, as folder-relative paths so the caller can record them).
func target(root, rel string, create parents) (abs string, made []string, err error) {
	if err := manifest.ValidatePath(rel); err != nil {
		return "", nil, err
	}
	parts := strings.Split(rel, "/")
	cur := root
	for i, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			return "", made, fmt.Errorf("%w: %q: parent %q is a symlink", ErrUnsafePath, rel, strings.Join(parts[:i+1], "/"))
		case err == nil && !fi.IsDir():
			return "", made, fmt.Errorf("%w: %q: parent %q is not a directory", ErrUnsafePath, rel, strings.Join(parts[:i+1], "/"))
		case err == nil:
		case os.IsNotExist(err) && create == createParents:
			if err := os.Mkdir(cur, 0o755); err != nil && !os.IsExist(err) {
				return "", made, fmt.Errorf("peer: create parent of %q: %w", rel, err)
			}
			// Re-check: a racing creator could have put a symlink there.
			if fi, err := os.Lstat(cur); err != nil || !fi.IsDir() {
				return "", made, fmt.Errorf("%w: %q: parent %q is not a directory", ErrUnsafePath, rel, strings.Join(parts[:i+1], "/"))
			}
			made = append(made, strings.Join(parts[:i+1], "/"))
		case os.IsNotExist(err):
			return filepath.Join(root, filepath.FromSlash(rel)), made, err
		default:
			return "", made, fmt.Errorf("peer: %q: %w", rel, err)
		}
	}
	return filepath.Join(root, filepath.FromSlash(rel)), made, nil
}
