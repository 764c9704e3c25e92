//go:build !linux

package peer

import (
	"os"
	"testing"
)

// unmount replaces dir by an empty directory, as unmounting the disk
// mounted there does (not at once here: dir is missing for a moment), and
// returns where dir's content went (for mount).
func unmount(dir string) (string, error) {
	disk := dir + ".disk"
	if err := os.Rename(dir, disk); err != nil {
		return "", err
	}
	return disk, os.Mkdir(dir, 0o755)
}

// mount undoes unmount.
func mount(t *testing.T, dir, disk string) {
	t.Helper()
	mustDo(t, os.Remove(dir))
	mustDo(t, os.Rename(disk, dir))
}
