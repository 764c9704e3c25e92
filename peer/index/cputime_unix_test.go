//go:build unix

package index

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process used so far: on
// a shared machine, benchmarks report it beside the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
