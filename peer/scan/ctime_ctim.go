//go:build linux || openbsd || dragonfly || solaris || aix

package scan

import "syscall"

// ctimeOf returns the inode change time of sys in ns.
func ctimeOf(sys *syscall.Stat_t) int64 { return sys.Ctim.Nano() }
