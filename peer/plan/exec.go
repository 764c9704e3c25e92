package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// ChunkStore is the chunk store as the executor reads it (*chunkstore.Store).
type ChunkStore interface {
	// Stored reports, for each of hs, whether the store records a
	// location of it (unverified: ReadPiece verifies), in one pass.
	Stored(hs []manifest.ID) ([]bool, error)
	// ReadPiece returns the bytes of piece h, verified against h
	// (chunkstore.ErrNotFound if no location holds them).
	ReadPiece(h manifest.ID, buf []byte) ([]byte, error)
}

// Sink is the partial download a plan fills (*chunkstore.Partial).
// WritePiece verifies the bytes against the piece's hash
// (chunkstore.ErrBadPiece otherwise) and fills every missing index with
// that hash; WriteVerifiedPiece is for bytes already verified.
type Sink interface {
	Missing() []int
	Have(i int) bool
	WritePiece(i int, data []byte) error
	WriteVerifiedPiece(i int, data []byte) error
}

// DeltaFetcher fetches piece h (length bytes) from src as a delta against
// basis and returns the rebuilt piece (*transfer.Fetcher). The stats count
// what went over the wire, also when it fails; any error means the piece is
// to be fetched whole.
type DeltaFetcher interface {
	FetchDelta(ctx context.Context, src transfer.Source, h manifest.ID, length int, basis []byte) ([]byte, transfer.DeltaStats, error)
}

// WholeFetcher fetches the pieces sink misses, whole, from the sources
// (*transfer.Fetcher).
type WholeFetcher interface {
	Fetch(ctx context.Context, m *manifest.Manifest, sink transfer.Sink, srcs []transfer.Source) (transfer.FetchStats, error)
}

// Counter is told what every step moved (the peer's stats). It is called
// from several goroutines at once.
type Counter interface {
	Local(bytes int64)               // a piece copied from the chunk store
	Found(bytes int64)               // a piece copied from the basis (rolling search)
	Delta(bytes int64)               // a piece rebuilt from a delta (its length)
	DeltaWire(sent, received int64)  // a delta's signature sent and delta received, failed or not
	DeltaFailed()                    // a delta failed: its piece is fetched whole
	Fetched(pieces int, bytes int64) // whole pieces received
}

// Executor carries plans out. Its fields are set once; it is safe for
// concurrent use.
type Executor struct {
	Store ChunkStore
	Delta DeltaFetcher
	Whole WholeFetcher
	Count Counter
	Log   *slog.Logger
}

// Job is one file version to fill.
type Job struct {
	Manifest *manifest.Manifest // the wanted version
	// Old is the index's version at the path (nil: none to use); Path
	// is the absolute path where it is, the basis, still in place until
	// the new version is renamed over it.
	Old     *manifest.Manifest
	Path    string
	Sources []transfer.Source // live owners of the wanted version
}

// Local fills part from local data as Decide plans it: the Store pieces
// from the chunk store and, side by side, the others from the basis (Found
// pieces, then Delta ones from the sources), then whole from the sources.
// The two run at once: they fill disjoint pieces, and the network work
// overlaps the local copy (an appended piece is on its way while the
// unchanged ones are copied). What is still missing is left for the
// caller's Fetch. It returns only context and chunk store errors: trouble
// with the basis, a delta or a source just leaves pieces to fetch.
func (e *Executor) Local(ctx context.Context, j Job, part Sink) error {
	m := j.Manifest
	began := time.Now()
	missing := part.Missing()
	t := &tally{}
	hs := make([]manifest.ID, len(missing))
	for k, i := range missing {
		hs[k] = m.Pieces[i].Hash
	}
	stored, err := e.Store.Stored(hs)
	if err != nil {
		return fmt.Errorf("plan: look up local pieces of %s: %w", m.Path, err)
	}
	var elsewhere []int // missing pieces the chunk store does not hold
	for k, i := range missing {
		if !stored[k] {
			elsewhere = append(elsewhere, i)
		}
	}
	in := Input{Manifest: m, Missing: missing, Stored: stored}
	var basis *os.File
	if j.Old != nil && len(elsewhere) > 0 {
		f, fi, err := openRegular(j.Path)
		switch {
		case err == nil:
			defer f.Close()
			if fi.Size() > 0 {
				in.Old, in.BasisSize, basis = j.Old, fi.Size(), f
			}
		case !errors.Is(err, fs.ErrNotExist):
			e.Log.Debug("old version", "path", m.Path, "err", err)
		}
	}
	return e.local(ctx, j, in, part, basis, elsewhere, t, began)
}

// local runs the plan of in (basis: the old version, nil without one).
func (e *Executor) local(ctx context.Context, j Job, in Input, part Sink, basis *os.File, elsewhere []int, t *tally, began time.Time) error {
	m := j.Manifest
	p := Decide(in)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := e.copyStore(gctx, m, part, p.Pieces(Store))
		t.tookLocal = time.Since(began)
		return err
	})
	if len(elsewhere) > 0 {
		g.Go(func() error {
			if basis != nil {
				if err := e.fromBasis(gctx, j, in, p, part, basis, t); err != nil {
					return err
				}
			}
			return e.fetchSome(gctx, m, part, elsewhere, j.Sources, t)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	left := part.Missing()
	var leftBytes int64
	for _, i := range left {
		leftBytes += m.PieceLen(i)
	}
	t.local = max(len(in.Missing)-len(left)-t.found-t.delta-t.fetched, 0)
	e.Log.Debug("pieces planned", "path", m.Path, "pieces", len(m.Pieces),
		"local", t.local, "found", t.found, "found_bytes", t.foundBytes,
		"delta", t.delta, "delta_bytes", t.deltaBytes, "delta_sent", t.sent, "delta_received", t.received,
		"delta_failed", t.failed, "fetched", t.fetched, "fetched_bytes", t.fetchedBytes,
		"fetch", len(left), "fetch_bytes", leftBytes,
		"took_local", t.tookLocal.Round(time.Millisecond), "took_found", t.tookFound.Round(time.Millisecond),
		"took_search", t.tookSearch.Round(time.Millisecond), "rolled", t.rolled,
		"took_old", t.tookOld.Round(time.Millisecond), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// fromBasis fills the pieces p plans from the basis (size in.BasisSize):
// the in-place deltas at once; beside them the rolling search for the
// Search pieces, then, as Decide plans them with what it found, the Found
// pieces and their Delta ones.
func (e *Executor) fromBasis(ctx context.Context, j Job, in Input, p Plan, part Sink, basis *os.File, t *tally) error {
	m := j.Manifest
	began := time.Now()
	defer func() { t.tookOld = time.Since(began) }()
	// Deltas only from owners: a partial holder (swarming) has only some
	// pieces, and the whole piece is fetched from it beside.
	dj := deltaJob{fetch: e.Delta, sink: part, basis: basis, m: m, srcs: ownersOf(j.Sources), count: e.Count, log: e.Log}
	var search, inPlace []int // pieces to search for; the others the basis is known to hold at their place
	for k, s := range p.Steps {
		switch {
		case s.From == Search:
			search = append(search, s.Piece)
		case !in.Stored[k]:
			inPlace = append(inPlace, s.Piece)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	if inPlaceDeltas := stepsFrom(p, Delta, nil); len(inPlaceDeltas) > 0 && len(dj.srcs) > 0 {
		// Edited in place: nothing to search for; the deltas start at once.
		g.Go(func() error { return dj.run(gctx, inPlaceDeltas, t) })
	}
	if len(search) > 0 {
		g.Go(func() error {
			known := append(delta.KnownRanges(in.Old, m, search), pieceRanges(m, inPlace)...)
			res, err := delta.FindKnown(gctx, basis, in.BasisSize, m, search, known)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				e.Log.Debug("rolling search", "path", m.Path, "err", err)
				res.Matches = nil
			}
			t.tookSearch = time.Since(began)
			t.rolled = res.Stats.Rolled
			searched := in
			searched.Searched, searched.Found = true, res.Matches
			after := Decide(searched)
			if err := copyFound(gctx, basis, m, part, stepsFrom(after, Found, p.Steps), e.Count, t, e.Log); err != nil {
				return err
			}
			t.tookFound = time.Since(began)
			if len(dj.srcs) == 0 {
				return nil
			}
			return dj.run(gctx, stepsFrom(after, Delta, p.Steps), t)
		})
	}
	return g.Wait()
}

// stepsFrom returns the steps of p from src; with before (the steps of the
// plan before the search), only those that were Search there.
func stepsFrom(p Plan, src Source, before []Step) []Step {
	var out []Step
	for k, s := range p.Steps {
		if s.From == src && (before == nil || before[k].From == Search) {
			out = append(out, s)
		}
	}
	return out
}

// pieceRanges returns the byte ranges of the given pieces of m.
func pieceRanges(m *manifest.Manifest, pieces []int) []delta.Range {
	out := make([]delta.Range, 0, len(pieces))
	for _, i := range pieces {
		out = append(out, delta.Range{Off: m.PieceOffset(i), Len: m.PieceLen(i)})
	}
	return out
}

// fetchSome fetches whole the pieces of want that part still misses, from
// srcs, beside the local copy. A failed fetch is logged and left to the
// caller's Fetch of whatever is missing then; only ctx's end is an error.
func (e *Executor) fetchSome(ctx context.Context, m *manifest.Manifest, part Sink, want []int, srcs []transfer.Source, t *tally) error {
	if len(srcs) == 0 {
		return nil
	}
	st, err := e.Fetch(ctx, m, subsetSink{part, want}, srcs)
	t.mu.Lock()
	t.fetched += st.Written
	t.fetchedBytes += st.Bytes
	t.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.Log.Debug("fetch beside the local copy", "path", m.Path, "err", err)
	}
	return nil
}

// Fetch fetches the pieces sink misses, whole, from srcs and counts what
// arrived, whatever the outcome.
func (e *Executor) Fetch(ctx context.Context, m *manifest.Manifest, sink transfer.Sink, srcs []transfer.Source) (transfer.FetchStats, error) {
	st, err := e.Whole.Fetch(ctx, m, sink, srcs)
	e.Count.Fetched(st.Pieces, st.Bytes)
	return st, err
}

// subsetSink is the part of a partial a fetch may fill: the pieces of want
// it still misses. Writes go to the partial (WriteVerifiedPiece included).
type subsetSink struct {
	Sink
	want []int
}

// Sync syncs the partial when it can (transfer.Syncer: a swarming fetch
// makes its pieces durable, and so servable, as they come).
func (s subsetSink) Sync() error {
	if y, ok := s.Sink.(transfer.Syncer); ok {
		return y.Sync()
	}
	return nil
}

func (s subsetSink) Missing() []int {
	out := make([]int, 0, len(s.want))
	for _, i := range s.want {
		if !s.Have(i) {
			out = append(out, i)
		}
	}
	return out
}

// tally is one file's share of the counters, for its debug log line.
type tally struct {
	mu                          sync.Mutex
	local, found, delta, failed int
	foundBytes, deltaBytes      int64
	fetched                     int // piece indexes fetched whole beside the local copy
	fetchedBytes                int64
	sent, received              int64

	tookLocal, tookFound, tookOld time.Duration // wall time: chunk store, found pieces, all of the basis's work
	tookSearch                    time.Duration // the rolling search's part of tookFound
	rolled                        int64         // bytes the rolling search rolled over
}

// ownersOf returns the sources of srcs that own the whole version (not
// transfer.Source.Partial).
func ownersOf(srcs []transfer.Source) []transfer.Source {
	var out []transfer.Source
	for _, s := range srcs {
		if !s.Partial {
			out = append(out, s)
		}
	}
	return out
}
