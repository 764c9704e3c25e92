//go:build !windows

package versions

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// fsSize returns the size in bytes of the file system holding path.
func fsSize(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Blocks) * uint64(st.Bsize), nil
}

// isCrossDevice reports whether err is a rename across file systems.
func isCrossDevice(err error) bool { return errors.Is(err, syscall.EXDEV) }
