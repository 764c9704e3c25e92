package peer

import (
	"errors"

	"golang.org/x/sys/unix"
)

// mountID identifies the mount the folder root is on: every mount, a
// remount of the same disk included, gets another (STATX_MNT_ID_UNIQUE,
// Linux 6.8; before that the kernel's mount IDs, which a new mount may
// reuse). 0 when unknown.
func mountID(root string) uint64 {
	var st unix.Statx_t
	mask := unix.STATX_MNT_ID_UNIQUE | unix.STATX_MNT_ID
	err := unix.Statx(unix.AT_FDCWD, root, 0, mask, &st)
	for errors.Is(err, unix.EINTR) {
		err = unix.Statx(unix.AT_FDCWD, root, 0, mask, &st)
	}
	if err != nil || st.Mask&uint32(mask) == 0 {
		return 0
	}
	return st.Mnt_id
}
