package bandwidth

import (
	"context"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
)

// benchSpan is how long each limit benchmark runs (10 s, the span of the
// acceptance figure; DARTSYNC_BW_BENCH_SECONDS changes it).
func benchSpan() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("DARTSYNC_BW_BENCH_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 10 * time.Second
}

// BenchmarkSendLimit: one, two and four streams over real QUIC on loopback
// read for benchSpan from a server whose sessions are limited to 5 MB/s.
// It reports the average rate of all streams together (MB/s, the limit is
// 5) and the smallest stream's share of a fair one (fair_min, 1 is
// exactly fair). b.N is ignored beyond the first run: the span is fixed.
func BenchmarkSendLimit(b *testing.B) {
	for _, streams := range []int{1, 2, 4} {
		b.Run(strconv.Itoa(streams)+"streams", func(b *testing.B) {
			const rate = 5e6
			l, err := New(Limits{Send: rate})
			if err != nil {
				b.Fatal(err)
			}
			cli, srv := quicPair(b)
			go serveForever(l.Session(srv, Send))
			span := benchSpan()
			ctx, cancel := context.WithTimeout(context.Background(), span)
			defer cancel()
			got := make([]int64, streams)
			var wg sync.WaitGroup
			start := time.Now()
			for i := range streams {
				wg.Go(func() { got[i] = readUntil(ctx, cli) })
			}
			wg.Wait()
			el := time.Since(start)
			var total int64
			minGot := got[0]
			for _, g := range got {
				total += g
				minGot = min(minGot, g)
			}
			b.ReportMetric(float64(total)/el.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(minGot)/(float64(total)/float64(streams)), "fair_min")
		})
	}
}

// serveForever writes zeros on every stream srv accepts until it fails.
func serveForever(srv transport.Session) {
	buf := make([]byte, 256<<10)
	for {
		st, err := srv.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go func() {
			for {
				if _, err := st.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

// readUntil opens a stream and reads it until ctx ends; it returns the
// bytes read.
func readUntil(ctx context.Context, cli transport.Session) int64 {
	st, err := cli.OpenStream(ctx)
	if err != nil {
		return 0
	}
	if _, err := st.Write([]byte{1}); err != nil {
		return 0
	}
	stop := context.AfterFunc(ctx, func() { st.CancelRead(1) })
	defer stop()
	n, _ := io.Copy(io.Discard, st)
	return n
}
