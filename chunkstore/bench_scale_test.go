package chunkstore

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// scaleFiles and scaleBatch: BenchmarkAddFilesScale records this many
// single-piece files, this many per AddFiles call (a scan's batch).
const (
	scaleFiles = 200_000
	scaleBatch = 1_000
)

// scaleManifests returns batch k of the benchmark's files: 1 KiB files,
// 400 per directory, with a modification time (so each has a stamp).
func scaleManifests(k int) []*manifest.Manifest {
	ms := make([]*manifest.Manifest, scaleBatch)
	data := make([]byte, 1<<10)
	for i := range ms {
		n := k*scaleBatch + i
		binary.LittleEndian.PutUint64(data, uint64(n))
		m := buildManifest(fmt.Sprintf("photos/%04d/IMG_%06d.jpg", n/400, n), data, manifest.DefaultPieceSize)
		m.ModTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() + int64(n)*1_000_003
		ms[i] = &m
	}
	return ms
}

// BenchmarkAddFilesScale records scaleFiles single-piece files (AddFiles in
// batches of scaleBatch) into a fresh store and reports files/s, the bytes
// of the state directory per file once the store is compacted and closed,
// and the heap in use after the load (store open). disk-B/file is the whole
// state directory (du); table-B/file the store's tables alone.
func BenchmarkAddFilesScale(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		root := b.TempDir()
		state := filepath.Join(root, "state")
		s, err := Open(root, state, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var took time.Duration
		for k := range scaleFiles / scaleBatch {
			ms := scaleManifests(k)
			began := time.Now()
			if err := s.AddFiles(ms); err != nil {
				b.Fatal(err)
			}
			took += time.Since(began)
		}
		b.StopTimer()
		runtime.GC()
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		if err := compactForBench(s); err != nil {
			b.Fatal(err)
		}
		tables := s.db.Metrics().Total().Size
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		// A reopen removes the write-ahead logs Pebble keeps for reuse (a
		// fixed few MiB, not a cost per file).
		if s, err = Open(root, state, nil); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(scaleFiles)/took.Seconds(), "files/s")
		b.ReportMetric(float64(tables)/scaleFiles, "table-B/file")
		b.ReportMetric(float64(dirBytes(b, state))/scaleFiles, "disk-B/file")
		b.ReportMetric(float64(mem.HeapInuse)/(1<<20), "heap-MiB")
		b.StartTimer()
	}
}

// dirBytes is the disk space (allocated blocks) of the files under dir.
func dirBytes(b *testing.B, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += diskUsage(fi)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}
