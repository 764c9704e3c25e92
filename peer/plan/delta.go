package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// deltaParallel is how many piece deltas of one file are in flight at once:
// each waits on a round trip, the source's delta search and a direct write,
// little of it on this CPU (64 deltas of a 256 MiB file: ~850 ms at 4,
// ~450 ms at 16, no better at 32, on the 2-core dev VM).
const deltaParallel = 16

// deltaGiveUp: once this many deltas of a file failed or saved less than
// half of their piece, and they outnumber the useful ones, the rest of the
// file is fetched whole: its old version has little in common with the new
// one (or the sources do not serve deltas), and the pipelined multi-source
// fetch is faster than one delta per piece.
const deltaGiveUp = 8

// deltaJob fetches piece deltas for one file.
type deltaJob struct {
	fetch DeltaFetcher
	sink  Sink
	basis io.ReaderAt // the old version
	m     *manifest.Manifest
	srcs  []transfer.Source
	count Counter
	log   *slog.Logger
}

// run tries the Delta steps (deltaParallel at a time, sources taken in
// turn). A failed delta leaves its piece missing. It returns only context
// and chunk store errors.
func (j *deltaJob) run(ctx context.Context, steps []Step, t *tally) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(deltaParallel)
	var mu sync.Mutex // guards useful, useless
	useful, useless := 0, 0
	k := 0
	for _, s := range steps {
		if j.sink.Have(s.Piece) {
			continue
		}
		mu.Lock()
		good, bad := useful, useless
		mu.Unlock()
		if bad >= deltaGiveUp && bad > good {
			j.log.Debug("deltas do not pay: rest fetched whole", "path", j.m.Path, "useful", good, "useless", bad)
			break
		}
		if gctx.Err() != nil {
			break
		}
		src := j.srcs[k%len(j.srcs)]
		k++
		g.Go(func() error {
			r, err := j.one(gctx, s, src, t)
			mu.Lock()
			switch r {
			case deltaUseful:
				useful++
			case deltaUseless, deltaFailed:
				useless++
			}
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// deltaResult is what became of one delta.
type deltaResult uint8

const (
	deltaFailed  deltaResult = iota // the piece is still missing
	deltaUseful                     // written; the delta was under half the piece
	deltaUseless                    // written, but the delta was not much smaller than the piece
)

// one fetches the delta of step s's piece against its basis bytes from src
// and writes the piece.
func (j *deltaJob) one(ctx context.Context, s Step, src transfer.Source, t *tally) (deltaResult, error) {
	i, n := s.Piece, j.m.PieceLen(s.Piece)
	fail := func(why error) (deltaResult, error) {
		if ctx.Err() != nil {
			return deltaFailed, ctx.Err()
		}
		j.count.DeltaFailed()
		t.mu.Lock()
		t.failed++
		t.mu.Unlock()
		j.log.Debug("delta failed: piece fetched whole", "path", j.m.Path, "piece", i, "source", src.ID.Short(), "err", why)
		return deltaFailed, nil
	}
	basis := make([]byte, s.Len)
	if _, err := j.basis.ReadAt(basis, s.Off); err != nil {
		return fail(fmt.Errorf("read old version: %w", err))
	}
	piece, ds, err := j.fetch.FetchDelta(ctx, src, j.m.Pieces[i].Hash, int(n), basis)
	j.count.DeltaWire(int64(ds.SignatureBytes), int64(ds.DeltaBytes))
	t.mu.Lock()
	t.sent += int64(ds.SignatureBytes)
	t.received += int64(ds.DeltaBytes)
	t.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	if err := j.sink.WritePiece(i, piece); err != nil {
		if errors.Is(err, chunkstore.ErrBadPiece) {
			return fail(err)
		}
		return deltaFailed, fmt.Errorf("plan: piece %d of %q from a delta: %w", i, j.m.Path, err)
	}
	j.count.Delta(n)
	t.mu.Lock()
	t.delta++
	t.deltaBytes += n
	t.mu.Unlock()
	if 2*int64(ds.DeltaBytes) < n {
		return deltaUseful, nil
	}
	return deltaUseless, nil
}
