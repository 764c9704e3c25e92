package peer

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// swapDirs exchanges two directories at once (renameat2 RENAME_EXCHANGE).
func swapDirs(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// unmount replaces dir by an empty directory at once, as unmounting the
// disk mounted there does, and returns where dir's content went (for
// mount). Safe to call from any goroutine: it returns its error.
func unmount(dir string) (string, error) {
	disk := dir + ".disk"
	if err := os.Mkdir(disk, 0o755); err != nil {
		return "", err
	}
	return disk, swapDirs(dir, disk)
}

// mount undoes unmount.
func mount(t *testing.T, dir, disk string) {
	t.Helper()
	mustDo(t, swapDirs(disk, dir))
	mustDo(t, os.Remove(disk))
}
