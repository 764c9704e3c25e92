package transfer

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// BenchmarkScheduleMemory builds the work items and the scheduler of a fetch
// of a file with 16 384 distinct missing pieces (1 GiB at 64 KiB pieces, 16
// GiB at the default 1 MiB) and reports the bytes they take per piece
// (B/piece): what a receiving peer holds for every missing piece during a
// whole fetch, beside the manifest's own 36 bytes.
func BenchmarkScheduleMemory(b *testing.B) {
	const n = 16384
	m := &manifest.Manifest{Path: "big", Size: n * 65536, PieceSize: 65536, Pieces: make([]manifest.Piece, n)}
	missing := make([]int, n)
	for i := range m.Pieces {
		var k [8]byte
		binary.LittleEndian.PutUint64(k[:], uint64(i))
		m.Pieces[i].Hash = manifest.Hash(k[:])
		missing[i] = i
	}
	srcs := testSources(3)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		items, _, err := workItems(m, missing)
		if err != nil {
			b.Fatal(err)
		}
		newScheduler(items, srcs, DefaultMaxDuplicates)
	}
	b.StopTimer()
	b.ReportMetric(retainedPerPiece(b, m, missing, srcs), "B/piece")
}

// retainedPerPiece is the heap that the work items and the scheduler of a
// fetch of the missing pieces of m keep, per piece (B/op of the benchmark
// also counts the transient hash index of workItems).
//
//go:noinline
func retainedPerPiece(b *testing.B, m *manifest.Manifest, missing []int, srcs []Source) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items, more, err := workItems(m, missing)
	if err != nil {
		b.Fatal(err)
	}
	s := newScheduler(items, srcs, DefaultMaxDuplicates)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	runtime.KeepAlive(more)
	runtime.KeepAlive(m) // m and missing were there before: not part of the figure
	runtime.KeepAlive(missing)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(missing))
}
