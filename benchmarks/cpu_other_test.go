//go:build !unix

package benchmarks

import "time"

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }

// peakRSS is not measured on this platform.
func peakRSS() int64 { return 0 }

// processCPU is not measured on this platform.
func processCPU(int) time.Duration { return 0 }
