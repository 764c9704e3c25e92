package peer

import (
	"io"
	"os"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// copyFile copies src to a new file dst (which must not exist), fsyncs it
// and sets its mode and modification time.
func copyFile(src, dst string, perm os.FileMode, mtime time.Time) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(dst)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	if err = out.Sync(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, mtime, mtime)
}

// setMeta sets the exec bit and modification time of m on the file at p.
func setMeta(p string, m *manifest.Manifest) error {
	perm := os.FileMode(0o644)
	if m.Exec {
		perm = 0o755
	}
	if err := os.Chmod(p, perm); err != nil {
		return err
	}
	t := time.Unix(0, m.ModTime)
	return os.Chtimes(p, t, t)
}
