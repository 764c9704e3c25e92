//go:build unix

package peer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// smallTree writes n files of a few bytes under root, 1 000 per directory,
// and returns their count.
func smallTree(tb testing.TB, root string, n int) int {
	tb.Helper()
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%04d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.txt", i)), fmt.Appendf(nil, "file %d\n", i), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return n
}

// indexedFolder is a folder whose index holds every file of root as synced
// (as a first scan reported and recorded them), with its reporter ready to
// scan (no tracker: an unchanged tree reports nothing).
func indexedFolder(tb testing.TB, root string) *folder {
	tb.Helper()
	state := filepath.Join(tb.TempDir(), "state")
	idx, err := index.Open(state)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { idx.Close() })
	store, err := chunkstore.Open(root, state, testLog())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	f := testFolder(Config{Root: root, Log: testLog()}, idx, store)
	f.state.setPieceSize(16 << 10)
	err = scan.Stream(context.Background(), root, scan.Options{PieceSize: 16 << 10}, func(b scan.Batch) error {
		es := make([]index.Entry, len(b.Entries))
		for i, e := range b.Entries {
			es[i] = index.Entry{Manifest: e.Manifest, Stat: e.Stat}
		}
		idx.Stage(es...)
		return idx.Flush()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

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
