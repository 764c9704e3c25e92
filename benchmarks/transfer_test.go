package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// bigFile is the size of the one large file of the sync benchmarks.
const bigFile = 256 << 20

// syncSetup writes one big file into a sender folder, indexes it in nsrc
// chunk stores (one per source, sharing the folder) and starts a server for
// each with opts.
func syncSetup(b *testing.B, nsrc int, opts ...transfer.ServerOption) (*manifest.Manifest, []transfer.Source) {
	b.Helper()
	root := b.TempDir()
	writeRandomFile(b, root, "big.bin", bigFile, 1)
	m, err := manifest.BuildFile(context.Background(), root, "big.bin", manifest.DefaultPieceSize)
	if err != nil {
		b.Fatal(err)
	}
	var srcs []transfer.Source
	for range nsrc {
		store := openStore(b, root)
		if err := store.AddFile(&m); err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, startServer(b, uploadSource{store}, opts...).source())
	}
	return &m, srcs
}

// benchSync fetches m from srcs into a real partial file and commits it, b.N
// times. between, when not nil, runs before every iteration and after the
// last, untimed. It returns every fetch's stats and the time the fetches
// took together.
func benchSync(b *testing.B, m *manifest.Manifest, srcs []transfer.Source, opt transfer.FetchOptions, between func()) ([]transfer.FetchStats, time.Duration) {
	ctx := context.Background()
	root := b.TempDir()
	store := openStore(b, root)
	f := transfer.NewFetcher(newID(b), opt, quietLog())
	defer f.Close()
	var all []transfer.FetchStats
	b.SetBytes(m.Size)
	b.ResetTimer()
	cpu := startCPU()
	var took time.Duration
	for range b.N {
		if between != nil {
			b.StopTimer()
			cpu.pause()
			between()
			cpu.resume()
			b.StartTimer()
		}
		start := time.Now()
		st, err := fetchFile(ctx, f, store, root, m, srcs)
		if err != nil {
			b.Fatalf("fetch: %v (stats %+v)", err, st)
		}
		took += time.Since(start)
		all = append(all, st)
	}
	b.StopTimer()
	cpu.report(b, m.Size*int64(b.N))
	if between != nil {
		between()
	}
	return all, took
}

// BenchmarkTransferOneSource: a 256 MiB file from one piece server over QUIC on
// loopback into a partial file on disk, committed (fsync + rename): the
// one-source transfer itself, without the save, hashing and tracker round
// trips of BenchmarkSyncOneSource. Raw QUIC on one stream is measured in
// the same run (before every iteration and after the last, untimed) and
// reported beside it.
func BenchmarkTransferOneSource(b *testing.B) {
	m, srcs := syncSetup(b, 1)
	raw := newRawMeter(b, bigFile)
	_, took := benchSync(b, m, srcs, transfer.FetchOptions{}, func() { raw.measure(b) })
	raw.report(b, m.Size*int64(b.N), took)
	if rss := peakRSS(); rss > 0 {
		// Sender and receiver together, in this one test process.
		b.ReportMetric(float64(rss)/(1<<20), "peakRSS-MiB")
	}
}

// BenchmarkTransferThreeSources: the same file from three servers, each limited
// in upload rate; the receiver should approach the sum of the three. Two
// rates: 40 MB/s each (the target setting) and 15 MB/s each (below what a
// loaded shared machine can move, to show the aggregation itself).
func BenchmarkTransferThreeSources(b *testing.B) {
	for _, rate := range []float64{40e6, 15e6} {
		b.Run(fmt.Sprintf("each=%.0fMBps", rate/1e6), func(b *testing.B) {
			benchThreeSources(b, rate)
		})
	}
}

func benchThreeSources(b *testing.B, rate float64) {
	m, srcs := syncSetup(b, 3, transfer.WithUploadLimit(rate))
	all, _ := benchSync(b, m, srcs, transfer.FetchOptions{}, nil)
	var dur time.Duration
	var dups int
	share := make([]int64, len(srcs))
	for _, st := range all {
		dur += st.Duration
		dups += st.Duplicates
		for i, s := range st.Sources {
			share[i] += s.Bytes
		}
	}
	got := float64(m.Size) * float64(len(all)) / dur.Seconds()
	b.ReportMetric(got/1e6, "fetchMB/s")
	b.ReportMetric(3*rate/1e6, "sumMB/s")
	b.ReportMetric(100*got/(3*rate), "%ofSum")
	b.ReportMetric(float64(dups)/float64(len(all)), "dups/op")
	for i, s := range share {
		b.ReportMetric(float64(s)/float64(len(all))/(1<<20), fmt.Sprintf("src%dMiB/op", i))
	}
}

// smallFilesSetup writes n files of size bytes in 100 directories, indexes
// them in a chunk store and serves it.
func smallFilesSetup(b *testing.B, n, size int) ([]*manifest.Manifest, []transfer.Source) {
	b.Helper()
	root := b.TempDir()
	ms := make([]*manifest.Manifest, n)
	for i := range ms {
		rel := fmt.Sprintf("d%02d/f%05d.dat", i%100, i)
		writeRandomFile(b, root, rel, int64(size), uint64(i))
		m, err := manifest.BuildFile(context.Background(), root, rel, manifest.DefaultPieceSize)
		if err != nil {
			b.Fatal(err)
		}
		ms[i] = &m
	}
	src := openStore(b, root)
	if err := src.AddFiles(ms); err != nil {
		b.Fatal(err)
	}
	return ms, []transfer.Source{startServer(b, uploadSource{src}).source()}
}

const (
	smallFiles    = 10000
	smallSize     = 4 << 10
	smallParallel = 16 // files fetched at once, as the puller runs them
)

// BenchmarkTransferSmallFiles: 10 000 files of 4 KiB, each its own Fetch into a
// partial file committed (fsync + rename) into the receiver's folder.
func BenchmarkTransferSmallFiles(b *testing.B) {
	ms, srcs := smallFilesSetup(b, smallFiles, smallSize)
	dst := b.TempDir()
	store := openStore(b, dst)
	benchSmall(b, ms, func(ctx context.Context, f *transfer.Fetcher, m *manifest.Manifest) error {
		_, err := fetchFile(ctx, f, store, dst, m, srcs)
		return err
	})
}

// BenchmarkTransferSmallFilesNoDisk is BenchmarkTransferSmallFiles without the receiver's
// disk (pieces verified and discarded): the transfer layer's own rate.
func BenchmarkTransferSmallFilesNoDisk(b *testing.B) {
	ms, srcs := smallFilesSetup(b, smallFiles, smallSize)
	benchSmall(b, ms, func(ctx context.Context, f *transfer.Fetcher, m *manifest.Manifest) error {
		_, err := f.Fetch(ctx, m, &discardSink{n: len(m.Pieces)}, srcs)
		return err
	})
}

func benchSmall(b *testing.B, ms []*manifest.Manifest, fetch func(context.Context, *transfer.Fetcher, *manifest.Manifest) error) {
	f := transfer.NewFetcher(newID(b), transfer.FetchOptions{}, quietLog())
	defer f.Close()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		g, gctx := errgroup.WithContext(context.Background())
		g.SetLimit(smallParallel)
		for _, m := range ms {
			g.Go(func() error { return fetch(gctx, f, m) })
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(ms)*b.N)/time.Since(start).Seconds(), "files/s")
}

// discardSink counts pieces and throws them away: the network path alone.
type discardSink struct {
	n       int
	mu      sync.Mutex
	written int
}

func (s *discardSink) Missing() []int {
	out := make([]int, s.n)
	for i := range out {
		out[i] = i
	}
	return out
}

func (s *discardSink) WritePiece(int, []byte) error {
	s.mu.Lock()
	s.written++
	s.mu.Unlock()
	return nil
}

// BenchmarkTransferOneSourceNoDisk is BenchmarkTransferOneSource without the
// receiver's disk: pieces are read from the sender's chunk store, sent,
// verified and discarded. It separates the cost of the transfer layer from
// the cost of writing the partial file.
func BenchmarkTransferOneSourceNoDisk(b *testing.B) {
	m, srcs := syncSetup(b, 1)
	f := transfer.NewFetcher(newID(b), transfer.FetchOptions{}, quietLog())
	defer f.Close()
	b.SetBytes(m.Size)
	b.ResetTimer()
	cpu := startCPU()
	for range b.N {
		sink := &discardSink{n: len(m.Pieces)}
		if st, err := f.Fetch(context.Background(), m, sink, srcs); err != nil {
			b.Fatalf("fetch: %v (stats %+v)", err, st)
		}
	}
	b.StopTimer()
	cpu.report(b, m.Size*int64(b.N))
}
