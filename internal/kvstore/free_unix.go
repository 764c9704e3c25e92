//go:build unix

package kvstore

import "golang.org/x/sys/unix"

// freeBytes returns the bytes an unprivileged user may still write on the
// file system holding dir; -1 if unknown.
func freeBytes(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
