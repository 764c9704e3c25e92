//go:build unix

package discovery

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reuse lets every DartSync process of a host bind the discovery port:
// with SO_REUSEADDR each of them receives the broadcasts sent to it.
func reuse(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
