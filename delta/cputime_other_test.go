//go:build !unix

package delta

import "time"

// cpuTime is unknown here; benchmarks then report no CPU-based figures.
func cpuTime() time.Duration { return 0 }
