//go:build unix

package peer

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// freeBytes returns the bytes an unprivileged user may still write on the
// file system holding dir; -1 if unknown.
func freeBytes(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// allocatedBytes returns the bytes fi's file holds on disk (a partial
// download is sparse until its pieces are written).
func allocatedBytes(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}

// dirWritable fails (EACCES, EROFS) if this process may not create or
// replace entries in dir.
func dirWritable(dir string) error {
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return &os.PathError{Op: "access", Path: dir, Err: err}
	}
	return nil
}
