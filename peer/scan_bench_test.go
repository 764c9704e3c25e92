//go:build unix

package peer

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRescanUnchanged200k: the reporter's whole rescan (walk, stat,
// merge with the index, nothing hashed or reported) of an unchanged tree
// of 200 000 small files (20 000 with -short). Reports files/s.
func BenchmarkRescanUnchanged200k(b *testing.B) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	root := b.TempDir()
	smallTree(b, root, n)
	f := indexedFolder(b, root)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		if err := f.report.scan(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if c := f.stats.LocalChanges.Load(); c != 0 {
		b.Fatalf("an unchanged rescan reported %d changes", c)
	}
	files := float64(n) * float64(b.N)
	b.ReportMetric(files/b.Elapsed().Seconds(), "files/s")
	// Per CPU second (user + system, the whole process): the figure a
	// busy machine does not skew.
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(files/cpu, "files/cpu-s")
	}
}

// cpuSeconds is the user plus system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
