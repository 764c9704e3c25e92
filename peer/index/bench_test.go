package index

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// smallEntry is the entry of the i-th file of a tree of small files
// (single piece, 1 KiB-ish, in directories of 100).
func smallEntry(i int) Entry {
	path := fmt.Sprintf("photos/%04d/%02d/IMG_%06d.jpg", i/10000, i/100%100, i)
	var h manifest.ID
	r := rand.New(rand.NewPCG(uint64(i), 7))
	for j := range h {
		h[j] = byte(r.Uint32())
	}
	size := int64(1000 + i%48)
	pieces := []manifest.Piece{{Hash: h, Weak: r.Uint32()}}
	mtime := int64(1.7e18) + int64(i)*1_000_003
	m := manifest.Manifest{Path: path, Size: size, ModTime: mtime, PieceSize: manifest.DefaultPieceSize, Pieces: pieces}
	m.ID = manifest.FileID(size, m.PieceSize, pieces)
	return Entry{Manifest: m, Stat: scan.Stat{Size: size, ModTime: mtime, Inode: uint64(3_000_000 + i), Ctime: mtime + 20_000}}
}

// loadSmall writes n small-file entries in batches of 1024.
func loadSmall(tb testing.TB, x *Index, n int) {
	tb.Helper()
	var b Batch
	for i := range n {
		b.Put = append(b.Put, smallEntry(i))
		if len(b.Put) == 1024 || i == n-1 {
			if err := x.Update(b); err != nil {
				tb.Fatal(err)
			}
			b.Put = b.Put[:0]
		}
	}
}

// BenchmarkIndexGet: a point read of one of 100 000 entries (the scan's
// lookup of an unchanged file), in walk order (as a scan asks: each block
// read once) and at random (most reads miss the block cache).
func BenchmarkIndexGet(b *testing.B) {
	x, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	const n = 100_000
	loadSmall(b, x, n)
	compactAll(b, x)
	for _, order := range []string{"walk", "random"} {
		b.Run(order, func(b *testing.B) {
			paths := make([]string, n)
			for i := range paths {
				j := i
				if order == "random" {
					j = i * 7919 % n
				}
				paths[i] = smallEntry(j).Manifest.Path
			}
			b.ReportAllocs()
			i := 0
			var cpu time.Duration
			for b.Loop() {
				if i == 0 {
					cpu = cpuTime()
				}
				if _, ok := x.Get(paths[i%n]); !ok {
					b.Fatal("missing")
				}
				i++
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(i), "cpu-ns/op")
		})
	}
}

// BenchmarkIndex200kSmallFiles indexes 200 000 small-file entries and
// reports the store's bytes on disk per entry after a flush and a full
// compaction, and the heap in use after the load (with the index open).
func BenchmarkIndex200kSmallFiles(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		x, err := Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime()
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		loadSmall(b, x, n)
		b.ReportMetric(float64(cpuTime()-cpu)/n, "load-cpu-ns/entry")
		compactAll(b, x)
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		if x.Len() != n {
			b.Fatalf("Len = %d", x.Len())
		}
		m := x.db.Metrics()
		b.ReportMetric(float64(m.DiskSpaceUsage())/n, "disk-B/entry")
		tot := m.Total()
		b.ReportMetric(float64(tot.Size)/n, "table-B/entry")
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric((float64(after.HeapInuse)-float64(before.HeapInuse))/(1<<20), "heap-growth-MiB")
		if err := x.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// compactAll flushes the index and compacts the whole store, so that what
// follows measures a settled store.
func compactAll(tb testing.TB, x *Index) {
	tb.Helper()
	if err := x.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := x.db.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := x.db.Compact([]byte{0}, []byte{0xff}, true); err != nil {
		tb.Fatal(err)
	}
}
