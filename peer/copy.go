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

// setMeta sets the mode and modification time of m on the file at p (see
// syncedMode: the mode bits of the file at keep, if it is a regular file,
// else those a new file gets under umask; the exec bit is m's).
func setMeta(p, keep string, m *manifest.Manifest, umask os.FileMode) error {
	if err := os.Chmod(p, syncedMode(keep, m.Exec, umask)); err != nil {
		return err
	}
	t := time.Unix(0, m.ModTime)
	return os.Chtimes(p, t, t)
}
