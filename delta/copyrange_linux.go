//go:build linux

package delta

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyRangeKernel copies with copy_file_range(2) and reports how many bytes it
// copied. It stops without error where the kernel refuses the pair of files
// (different filesystems on old kernels, special files), leaving the rest to
// the portable copy.
func copyRangeKernel(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) (int64, error) {
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, nil
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var done int64
	var opErr error
	ctlErr := sc.Control(func(sfd uintptr) {
		err := dc.Control(func(dfd uintptr) {
			for done < n {
				roff, woff := srcOff+done, dstOff+done
				chunk := int(min(n-done, 1<<30))
				c, err := unix.CopyFileRange(int(sfd), &roff, int(dfd), &woff, chunk, 0)
				switch {
				case errors.Is(err, unix.EINTR):
					continue
				case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EXDEV), errors.Is(err, unix.EINVAL),
					errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EPERM), errors.Is(err, unix.EBADF):
					return // let the portable copy try
				case err != nil:
					opErr = err
					return
				case c == 0:
					opErr = io.ErrUnexpectedEOF
					return
				}
				done += int64(c)
			}
		})
		if err != nil && opErr == nil {
			opErr = err
		}
	})
	if ctlErr != nil && opErr == nil {
		opErr = ctlErr
	}
	return done, opErr
}
