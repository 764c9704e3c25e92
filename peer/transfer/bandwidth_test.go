package transfer

import (
	"bytes"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/bandwidth"
)

// TestFetchUnderBandwidthLimits: over real QUIC and TCP on loopback, a file moves
// no faster than the server's send limit or the fetcher's receive limit
// (lower bounds on the time, which slowness cannot break), every byte is
// counted against the limit, and the file arrives whole.
func TestFetchUnderBandwidthLimits(t *testing.T) {
	const rate, size = 4 << 20, 2 << 20
	for _, tc := range []struct {
		name string
		dir  bandwidth.Direction
		mode transport.Mode
	}{
		{"server send limit over quic", bandwidth.Send, transport.ModeQUIC},
		{"fetcher receive limit over quic", bandwidth.Recv, transport.ModeQUIC},
		{"server send limit over tcp", bandwidth.Send, transport.ModeTCP},
		{"fetcher receive limit over tcp", bandwidth.Recv, transport.ModeTCP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			var lim bandwidth.Limits
			if tc.dir == bandwidth.Send {
				lim.Send = rate
			} else {
				lim.Recv = rate
			}
			bw, err := bandwidth.New(lim)
			if err != nil {
				t.Fatal(err)
			}
			m, path, data := writeTestFile(t, t.TempDir(), size, testPieceSize)
			var opts []ServerOption
			me := newIdentity(t)
			fopt := FetchOptions{Dialer: transport.NewDialer(me, transport.Options{}, tc.mode)}
			if tc.dir == bandwidth.Send {
				opts = append(opts, WithBandwidth(bw))
			} else {
				fopt.Bandwidth = bw
			}
			srv := startServer(t, newFileSource(t, path, m), allowAll, opts...)
			sink := newFileSink(t, t.TempDir(), m)
			f := newFetcher(t, me, fopt)
			start := time.Now()
			if _, err := f.Fetch(ctx, m, sink, []Source{srv.source()}); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if !bytes.Equal(sink.content(t), data) {
				t.Fatal("fetched file differs")
			}
			// Identical pieces move once (writeTestFile repeats some).
			moved := int64(distinct(m)) * testPieceSize
			min := time.Duration(float64(moved-128<<10) / rate * 0.9 * float64(time.Second))
			if took < min {
				t.Errorf("%d bytes under a %d B/s limit in %v, want at least %v", moved, rate, took, min)
			}
			if n := bw.Counted(tc.dir); n < moved {
				t.Errorf("%d bytes counted against the limit, want at least %d", n, moved)
			}
		})
	}
}

// TestFetchLimitSharedBySources: one receive limit shared by two fetches
// from two servers at once: together they take at least their total
// bytes over the rate.
func TestFetchLimitSharedBySources(t *testing.T) {
	const rate, size = 4 << 20, 1 << 20
	ctx := testCtx(t)
	var moved int64
	bw, err := bandwidth.New(bandwidth.Limits{Recv: rate})
	if err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, newIdentity(t), FetchOptions{Bandwidth: bw})
	start := time.Now()
	errs := make(chan error, 2)
	for range 2 {
		m, path, data := writeTestFile(t, t.TempDir(), size, testPieceSize)
		moved += int64(distinct(m)) * testPieceSize // identical pieces move once
		srv := startServer(t, newFileSource(t, path, m), allowAll)
		sink := newFileSink(t, t.TempDir(), m)
		go func() {
			_, err := f.Fetch(ctx, m, sink, []Source{srv.source()})
			if err == nil && !bytes.Equal(sink.content(t), data) {
				err = errBadContent
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	min := time.Duration(float64(moved-128<<10) / rate * 0.9 * float64(time.Second))
	if took := time.Since(start); took < min {
		t.Errorf("%d bytes from two sources under one %d B/s limit in %v, want at least %v", moved, rate, took, min)
	}
}

var errBadContent = bytesError("fetched file differs")

type bytesError string

func (e bytesError) Error() string { return string(e) }
