package tracker

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkTrackerFanout: 16 clients; one client reports a new version and
// the latency until all 16 have received it is recorded. Reports p50/p99.
func BenchmarkTrackerFanout(b *testing.B) {
	const peers = 16
	srv := startServer(b, b.TempDir(), ServerConfig{Log: testLog(b)})
	lp, err := startLoadPeers(srv.Addr().String(), srv.Token(), peers)
	if err != nil {
		b.Fatal(err)
	}
	defer lp.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// everybody registered and caught up
	seq, err := lp.report(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := lp.drain(ctx, seq); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	prev := loadManifest(0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		next := testFile(prev.Path, "version "+strconv.Itoa(i), t0+int64(i)+1, prev.ID)
		start := time.Now()
		rs, err := lp.clients[0].Update(ctx, []Change{{New: next}})
		if err != nil || rs[0].Outcome != Accepted {
			b.Fatal(err, rs)
		}
		if err := lp.drain(ctx, rs[0].Seq); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		prev = next
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds()), "p99-µs")
}

// BenchmarkTrackerLoad: 16 peers each report the same 100 000 files (the
// first report of each file is accepted, the other 15 add owners) and
// receive every push. Reports the tracker's heap growth per file after GC
// (the clients' connections are included; their handlers keep nothing) and
// the time to register everything. DARTSYNC_LOAD_FILES overrides the count.
func BenchmarkTrackerLoad(b *testing.B) {
	files := 100_000
	if v, err := strconv.Atoi(os.Getenv("DARTSYNC_LOAD_FILES")); err == nil && v > 0 {
		files = v
	}
	const peers = 16
	for b.Loop() {
		srv := startServer(b, b.TempDir(), ServerConfig{Log: testLog(b)})
		lp, err := startLoadPeers(srv.Addr().String(), srv.Token(), peers)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		// connections up before the baseline
		if _, err := lp.report(ctx, 0); err != nil {
			b.Fatal(err)
		}
		for _, h := range lp.handlers {
			for h.regs.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		before := heapInUse()
		start := time.Now()
		seq, err := lp.report(ctx, files)
		if err != nil {
			b.Fatal(err)
		}
		reported := time.Since(start)
		if err := lp.drain(ctx, seq); err != nil {
			b.Fatal(err)
		}
		drained := time.Since(start)
		after := heapInUse()
		cancel()
		if err := lp.stop(); err != nil {
			b.Fatal(err)
		}
		nfiles, _ := srv.store.counts()
		if nfiles != files {
			b.Fatalf("tracker has %d files, want %d", nfiles, files)
		}
		b.ReportMetric(float64(int64(after)-int64(before))/float64(files), "heap-B/file")
		b.ReportMetric(reported.Seconds(), "s-to-register")
		b.ReportMetric(drained.Seconds(), "s-to-push-all")
		b.ReportMetric(float64(seq), "seq")
		b.Logf("%d files x %d peers: heap %d -> %d bytes; %v to register, %v until every peer had every push",
			files, peers, before, after, reported.Round(time.Millisecond), drained.Round(time.Millisecond))
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
