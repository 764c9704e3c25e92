package peer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkDaemonSmallFiles: files/s from creation in one folder to
// presence in the other, whole daemon (scan, tracker, fetch, apply) with an
// in-process tracker over QUIC on loopback. 1000 files of 4 KiB per op.
func BenchmarkDaemonSmallFiles(b *testing.B) {
	const files, size = 1000, 4 << 10
	n := newTestNetPieces(b, 1<<20)
	a := n.start(b.TempDir())
	r := n.start(b.TempDir())
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, size)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		dir := fmt.Sprintf("batch%d", i)
		for j := 0; j < files; j++ {
			for k := range data {
				data[k] = byte(rng.Uint32())
			}
			sub := filepath.Join(a.root, dir, fmt.Sprintf("d%02d", j/100))
			if j%100 == 0 {
				if err := os.MkdirAll(sub, 0o755); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", j)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		want := int64(files * (i + 1))
		waitFor(b, "small files on the receiver", func() bool { return r.d.Stats().FilesApplied >= want })
	}
	b.ReportMetric(float64(files*b.N)/time.Since(start).Seconds(), "files/s")
}

// BenchmarkDaemonLargeFile: one 128 MiB file from the moment it is saved in
// one folder until it is in place in the other (debounce 30 ms included).
func BenchmarkDaemonLargeFile(b *testing.B) {
	const size = 128 << 20
	n := newTestNetPieces(b, 1<<20)
	a := n.start(b.TempDir())
	r := n.start(b.TempDir())
	tmp := b.TempDir()
	b.SetBytes(size)
	var ms runtime.MemStats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		src := filepath.Join(tmp, fmt.Sprintf("src%d", i))
		writeRandom(b, src, size, uint64(i))
		name := fmt.Sprintf("large%d.bin", i)
		b.StartTimer()
		// A hard link makes the whole file appear at once, like a save.
		if err := os.Link(src, filepath.Join(a.root, name)); err != nil {
			b.Fatal(err)
		}
		want := int64(i + 1)
		waitFor(b, "large file on the receiver", func() bool { return r.d.Stats().FilesApplied >= want })
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}

// writeRandom writes size pseudo-random bytes (distinct per seed) to p.
func writeRandom(b *testing.B, p string, size int, seed uint64) {
	b.Helper()
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7})
	buf := make([]byte, 1<<20)
	for w := 0; w < size; w += len(buf) {
		rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}
