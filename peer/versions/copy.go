package versions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts the names of temporary files in the versions
// directory (never a version name: those need "~" and a time stamp).
const tempPrefix = ".tmp-"

// isTemp reports whether name is a temporary file of this package.
func isTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// copyToTemp copies src to a new temporary file in dir with src's mode and
// the modification time mtime (zero: left as written), made durable; it
// returns the temporary file's path. On failure nothing is left behind.
func copyToTemp(src, dir string, mtime time.Time) (tmp string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", err
	}
	out, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	tmp = out.Name()
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	// Best effort: a file system without permissions (FAT on a removable
	// disk) refuses, and the version is kept all the same.
	_ = out.Chmod(fi.Mode().Perm())
	if err = out.Sync(); err != nil {
		return "", err
	}
	if err = out.Close(); err != nil {
		return "", err
	}
	if !mtime.IsZero() {
		if err = os.Chtimes(tmp, mtime, mtime); err != nil {
			return "", err
		}
	}
	return tmp, nil
}

// syncDir makes the entries of dir durable (best effort where the platform
// cannot fsync a directory).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// sameBytes reports whether files a and b have the same content.
func sameBytes(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	sa, err := fa.Stat()
	if err != nil {
		return false, err
	}
	sb, err := fb.Stat()
	if err != nil {
		return false, err
	}
	if sa.Size() != sb.Size() {
		return false, nil
	}
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}

// relDir returns dir's path below root with slashes ("" for root).
func relDir(root, dir string) string {
	r, err := filepath.Rel(root, dir)
	if err != nil || r == "." {
		return ""
	}
	return filepath.ToSlash(r)
}
