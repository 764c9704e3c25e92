//go:build unix && !linux

package peer

import (
	"os"
	"syscall"
)

// processUmask returns the process's umask. Elsewhere than on Linux it
// can only be read by setting it: it is set back at once (called once per
// folder, when the daemon is made).
func processUmask() os.FileMode {
	u := syscall.Umask(0o022)
	syscall.Umask(u)
	return os.FileMode(u) & 0o777
}
