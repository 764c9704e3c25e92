package benchmarks

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSyncOneSource: a new 256 MiB file saved in peer A's folder
// (hard-linked in: it appears whole, like a save-by-rename) until it is
// complete in peer B's folder, whole daemons (watcher, hashing, tracker,
// fetch over QUIC, partial file, fsync, rename) with an in-process tracker
// on loopback. Raw QUIC is measured in the same run (before every iteration
// and after the last, untimed) and reported beside it: rawMB/s and %ofRaw; cpu-s/GiB is
// the CPU time of the whole process (both peers, tracker) per GiB synced.
func BenchmarkSyncOneSource(b *testing.B) {
	n := newSyncNet(b)
	a := n.start(b.TempDir(), 0)
	r := n.start(b.TempDir(), 0)
	stage := b.TempDir()
	raw := newRawMeter(b, bigFile)
	var synced, cpu time.Duration
	b.SetBytes(bigFile)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		raw.measure(b)
		name := fmt.Sprintf("big%d.bin", i)
		writeRandomFile(b, stage, name, bigFile, uint64(1000+i))
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		if err := os.Link(filepath.Join(stage, name), filepath.Join(a.root, name)); err != nil {
			b.Fatal(err)
		}
		waitUntil(b, name+" on the receiver", 5*time.Minute, sameSize(filepath.Join(r.root, name), bigFile))
		synced += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		sameContent(b, filepath.Join(a.root, name), filepath.Join(r.root, name))
		if err := os.Remove(filepath.Join(stage, name)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	raw.measure(b)
	raw.report(b, bigFile*int64(b.N), synced)
	// Both peers and the tracker together: hashing on save, serving,
	// verifying, writing. Less sensitive to other load than MB/s.
	b.ReportMetric(cpu.Seconds()/(float64(bigFile)*float64(b.N)/(1<<30)), "cpu-s/GiB")
}

// threeSourceRate is each source's upload limit in BenchmarkSyncThreeSources.
const threeSourceRate = 40e6

// BenchmarkSyncThreeSources: three peers own the same 256 MiB file, each
// serving at most 40 MB/s; every iteration starts a fresh receiver with an
// empty folder and runs until the file is complete there. The receiver
// should approach the sum of the three rates (%ofSum); srcN-MiB/op is what
// each source sent.
func BenchmarkSyncThreeSources(b *testing.B) {
	n := newSyncNet(b)
	stage := b.TempDir()
	writeRandomFile(b, stage, "big.bin", bigFile, 3)
	srcs := make([]*syncPeer, 3)
	for i := range srcs {
		root := b.TempDir()
		if err := os.Link(filepath.Join(stage, "big.bin"), filepath.Join(root, "big.bin")); err != nil {
			b.Fatal(err)
		}
		srcs[i] = n.start(root, threeSourceRate)
	}
	// Each source reported the file (accepted, or added as an owner).
	waitUntil(b, "three owners", 2*time.Minute, func() bool {
		for _, s := range srcs {
			if st := s.d.Stats(); st.LocalChanges+st.FilesApplied < 1 {
				return false
			}
		}
		return true
	})
	sent := make([]int64, len(srcs))
	for i, s := range srcs {
		sent[i] = -s.d.Stats().BytesSent
	}
	var synced time.Duration
	b.SetBytes(bigFile)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		r := n.start(b.TempDir(), 0)
		waitUntil(b, "file on the receiver", 5*time.Minute, sameSize(filepath.Join(r.root, "big.bin"), bigFile))
		synced += time.Since(start)
		b.StopTimer()
		r.stop()
		b.StartTimer()
	}
	b.StopTimer()
	got := float64(bigFile) * float64(b.N) / synced.Seconds()
	sum := threeSourceRate * float64(len(srcs))
	b.ReportMetric(got/1e6, "syncMB/s")
	b.ReportMetric(sum/1e6, "sumMB/s")
	b.ReportMetric(100*got/sum, "%ofSum")
	for i, s := range srcs {
		sent[i] += s.d.Stats().BytesSent
		b.ReportMetric(float64(sent[i])/float64(b.N)/(1<<20), fmt.Sprintf("src%d-MiB/op", i))
	}
}

// BenchmarkSmallFiles: 10 000 new files of 4 KiB in 100 directories appear
// in peer A's folder at once (their parent directory is renamed in) until
// all are complete in peer B's folder, whole daemons with an in-process
// tracker; files/s.
func BenchmarkSmallFiles(b *testing.B) {
	n := newSyncNet(b)
	a := n.start(b.TempDir(), 0)
	r := n.start(b.TempDir(), 0)
	stage := b.TempDir()
	var synced time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		batch := fmt.Sprintf("batch%d", i)
		for j := range smallFiles {
			writeRandomFile(b, stage, fmt.Sprintf("%s/d%02d/f%05d.dat", batch, j%100, j), smallSize, uint64(i*smallFiles+j))
		}
		want := r.d.Stats().FilesApplied + smallFiles
		b.StartTimer()
		start := time.Now()
		if err := os.Rename(filepath.Join(stage, batch), filepath.Join(a.root, batch)); err != nil {
			b.Fatal(err)
		}
		waitUntil(b, "small files on the receiver", 10*time.Minute, func() bool { return r.d.Stats().FilesApplied >= want })
		synced += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(smallFiles*b.N)/synced.Seconds(), "files/s")
}
