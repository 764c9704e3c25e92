//go:build !unix

package manifest

import "time"

// processCPU is unknown here; benchmarks then skip the CPU metric.
func processCPU() time.Duration { return 0 }
