package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
)

// storeCopyParallel is the least number of pieces copyStore copies at once:
// its writes go straight to the disk (chunkstore writes partial pieces with
// O_DIRECT), so more of them in flight keep the disk busy while others hash.
const storeCopyParallel = 8

// copyWorkers bounds the pieces copyFound copies at once (each reads,
// hashes and writes a piece).
const copyWorkers = 4

// buffers is a free list of piece buffers for at most limit goroutines at
// once (errgroup.SetLimit): one buffer each, allocated on first use.
type buffers chan []byte

func (b buffers) get(n int64) []byte {
	select {
	case buf := <-b:
		if int64(cap(buf)) >= n {
			return buf[:n]
		}
	default:
	}
	return make([]byte, n)
}

func (b buffers) put(buf []byte) {
	select {
	case b <- buf:
	default:
	}
}

// copyStore fills every piece of pieces (Store steps: one per hash) that
// any file or partial in the chunk store holds, at most
// max(GOMAXPROCS, storeCopyParallel) at once, hashing each piece once: read
// with ReadPiece (which verifies the bytes it returns against the hash),
// written with WriteVerifiedPiece. Pieces it cannot find stay missing.
// Copying the unchanged pieces of a large file is most of an update's
// time; hashing runs on every core while other copies wait on their direct
// writes (192 MiB: ~880 ms with 2 at once, ~490 ms with 8, on the dev VM).
func (e *Executor) copyStore(ctx context.Context, m *manifest.Manifest, part Sink, pieces []int) error {
	limit := max(runtime.GOMAXPROCS(0), storeCopyParallel)
	bufs := make(buffers, limit)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, i := range pieces {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if part.Have(i) { // resumed or found meanwhile
				return nil
			}
			buf := bufs.get(min(m.PieceSize, m.Size))
			defer bufs.put(buf)
			data, err := e.Store.ReadPiece(m.Pieces[i].Hash, buf)
			if errors.Is(err, chunkstore.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := part.WriteVerifiedPiece(i, data); err != nil {
				return err
			}
			e.Count.Local(int64(len(data)))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// copyFound reads every Found step from basis and writes it into sink, at
// most min(GOMAXPROCS, copyWorkers) at once. A piece that no longer has its
// hash (the basis changed since the search) is skipped; it stays missing.
func copyFound(ctx context.Context, basis io.ReaderAt, m *manifest.Manifest, sink Sink, found []Step, c Counter, t *tally, log *slog.Logger) error {
	limit := min(runtime.GOMAXPROCS(0), copyWorkers)
	bufs := make(buffers, limit)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for _, s := range found {
		if gctx.Err() != nil {
			break
		}
		if sink.Have(s.Piece) {
			continue
		}
		g.Go(func() error {
			n := m.PieceLen(s.Piece)
			data := bufs.get(n)
			defer bufs.put(data)
			if _, err := basis.ReadAt(data, s.Off); err != nil {
				log.Debug("old version changed", "path", m.Path, "piece", s.Piece, "err", err)
				return nil
			}
			if err := sink.WritePiece(s.Piece, data); err != nil {
				if errors.Is(err, chunkstore.ErrBadPiece) {
					log.Debug("old version changed", "path", m.Path, "piece", s.Piece, "err", err)
					return nil
				}
				return fmt.Errorf("plan: piece %d of %q from the old version: %w", s.Piece, m.Path, err)
			}
			c.Found(n)
			t.mu.Lock()
			t.found++
			t.foundBytes += n
			t.mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// errNotRegular: the basis's path holds no regular file (a symlink is
// never followed: its target is outside what this peer syncs).
var errNotRegular = errors.New("not a regular file")

// openRegular opens the regular file at p, never through a symlink.
func openRegular(p string) (*os.File, fs.FileInfo, error) {
	li, err := os.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if !li.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w", p, errNotRegular)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(li, fi) {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s: replaced while opened: %w", p, errNotRegular)
		}
		return nil, nil, err
	}
	return f, fi, nil
}
