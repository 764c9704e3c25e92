package scan

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// sizeClass is count files of size bytes in a benchmark tree.
type sizeClass struct {
	size  int64
	count int
}

// benchTree is 1 GiB in 11 410 files of mixed sizes (64 MiB in 714 files
// with -short).
func benchTree() []sizeClass {
	if testing.Short() {
		return []sizeClass{{16 << 20, 2}, {4 << 20, 4}, {1 << 20, 8}, {64 << 10, 64}, {16 << 10, 128}, {4 << 10, 512}}
	}
	return []sizeClass{{256 << 20, 2}, {16 << 20, 16}, {1 << 20, 128}, {64 << 10, 1024}, {16 << 10, 2048}, {4 << 10, 8192}}
}

// makeTree writes the classes under root in 64 directories and returns the
// total files and bytes.
func makeTree(b *testing.B, root string, classes []sizeClass) (files int, bytes int64) {
	chunk := randomBytes(99, 1<<20)
	for ci, c := range classes {
		for i := range c.count {
			rel := fmt.Sprintf("d%02d/c%d-%05d.bin", files%64, ci, i)
			p := filepath.Join(root, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			for off := int64(0); off < c.size; off += int64(len(chunk)) {
				n := min(int64(len(chunk)), c.size-off)
				binary.LittleEndian.PutUint64(chunk, uint64(files)<<32|uint64(off)) // distinct contents
				if _, err := f.Write(chunk[:n]); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			files++
			bytes += c.size
		}
	}
	return files, bytes
}

// BenchmarkScan: a first scan (every file hashed) of a 1 GiB tree of mixed
// sizes in the page cache. Reports MB/s and files/s. -short: 64 MiB.
func BenchmarkScan(b *testing.B) {
	root := b.TempDir()
	files, bytes := makeTree(b, root, benchTree())
	b.SetBytes(bytes)
	u0, s0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		res, err := Scan(context.Background(), root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if n := countFiles(res); n != files {
			b.Fatalf("scanned %d files, want %d", n, files)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	reportCPU(b, u0, s0, bytes)
}

// BenchmarkScanSmallFiles: first scan of 10 000 files of 4 KiB.
func BenchmarkScanSmallFiles(b *testing.B) {
	root := b.TempDir()
	files, bytes := makeTree(b, root, []sizeClass{{4 << 10, 10000}})
	b.SetBytes(bytes)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Scan(context.Background(), root, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkRescanUnchanged: the periodic safety-net rescan of 10 000
// unchanged files (stat only, nothing hashed).
func BenchmarkRescanUnchanged(b *testing.B) {
	root := b.TempDir()
	files, _ := makeTree(b, root, []sizeClass{{4 << 10, 10000}})
	first, err := Scan(context.Background(), root, Options{})
	if err != nil {
		b.Fatal(err)
	}
	byPath := make(map[string]Entry, len(first.Entries))
	for _, e := range first.Entries {
		byPath[e.Manifest.Path] = e
	}
	prev := func(p string) (manifest.Manifest, Stat, bool) {
		e, ok := byPath[p]
		return e.Manifest, e.Stat, ok
	}
	b.ResetTimer()
	for b.Loop() {
		var last Progress
		if _, err := Scan(context.Background(), root, Options{Prev: prev, Progress: func(p Progress) { last = p }}); err != nil {
			b.Fatal(err)
		}
		if last.TotalFiles != 0 {
			b.Fatalf("rescan hashed %d files", last.TotalFiles)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// reportCPU reports user and system CPU seconds per GiB scanned: the cost of
// a scan independent of how busy the machine is.
func reportCPU(b *testing.B, u0, s0 time.Duration, bytes int64) {
	u1, s1 := cpuTime()
	gib := float64(bytes) * float64(b.N) / (1 << 30)
	if u1 > 0 && gib > 0 {
		b.ReportMetric((u1-u0).Seconds()/gib, "user-s/GiB")
		b.ReportMetric((s1-s0).Seconds()/gib, "sys-s/GiB")
	}
}

func countFiles(r Result) int {
	n := 0
	for _, e := range r.Entries {
		if e.Manifest.Kind == manifest.KindFile {
			n++
		}
	}
	return n
}
