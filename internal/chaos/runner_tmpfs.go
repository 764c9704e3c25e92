package chaos

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// canMount reports whether this process may mount file systems (root).
func canMount() bool { return os.Geteuid() == 0 }

// mountTmpfs mounts a tmpfs of size bytes at dir.
func mountTmpfs(dir string, size int64) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("mount tmpfs at %s: %w", dir, err)
	}
	return nil
}

// unmountTmpfs unmounts dir (lazily: a process may still hold a file).
func unmountTmpfs(dir string) error {
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}
