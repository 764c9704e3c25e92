package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
)

// Sources of a piece in a pull, cheapest first (docs/ARCHITECTURE.md §5, §6); every
// decision is counted in Stats and logged per file at debug level:
//
//   - local: the same hash anywhere in the chunk store (plan), 0 bytes;
//   - found: located by the rolling search (delta.FindKnown) in the old
//     version of the file, still at its path until apply renames the new
//     one over it, 0 bytes;
//   - delta: rebuilt from a piece delta against the old bytes at the place
//     of the piece (delta.BasisRange), fetched from a live owner; costs a
//     signature sent and a delta received;
//   - fetched: the whole piece from the owners (transfer.Fetcher.Fetch), for
//     everything still missing, including every piece whose delta failed.

// deltaParallel is how many piece deltas of one file are in flight at once:
// each waits on a round trip, the source's delta search and a direct write,
// little of it on this CPU (64 deltas of a 256 MiB file: ~850 ms at 4,
// ~450 ms at 16, no better at 32, on the 2-core dev VM).
const deltaParallel = 16

// storeCopyParallel is the least number of pieces planStore copies at once:
// its writes go straight to the disk (chunkstore writes partial pieces with
// O_DIRECT), so more of them in flight keep the disk busy while others hash.
const storeCopyParallel = 8

// minDeltaPiece: a piece shorter than this is fetched whole (a signature
// and a round trip of its own buy nothing).
const minDeltaPiece = 4 << 10

// deltaGiveUp: once this many deltas of a file failed or saved less than
// half of their piece, and they outnumber the useful ones, the rest of the
// file is fetched whole: its old version has little in common with the new
// one (or the sources do not serve deltas), and the pipelined multi-source
// fetch is faster than one delta per piece.
const deltaGiveUp = 8

// deltaCounters are the Stats counters of the rolling search and the piece
// deltas (embedded in Stats).
type deltaCounters struct {
	PiecesFound        atomic.Int64 // pieces copied from the old version (rolling search)
	BytesFound         atomic.Int64
	PiecesDelta        atomic.Int64 // pieces rebuilt from a delta
	BytesDelta         atomic.Int64 // their piece bytes
	DeltaBytesSent     atomic.Int64 // signature bytes sent
	DeltaBytesReceived atomic.Int64 // delta bytes received (also in BytesReceived)
	DeltaFailed        atomic.Int64 // deltas that failed: the piece is fetched whole
}

// DeltaSnapshot is the JSON form of the delta counters (embedded in
// StatsSnapshot, so its fields sit next to the others in stats.json).
type DeltaSnapshot struct {
	PiecesFound        int64 `json:"pieces_found"`
	BytesFound         int64 `json:"bytes_found"`
	PiecesDelta        int64 `json:"pieces_delta"`
	BytesDelta         int64 `json:"bytes_delta"`
	DeltaBytesSent     int64 `json:"delta_bytes_sent"`
	DeltaBytesReceived int64 `json:"delta_bytes_received"`
	DeltaFailed        int64 `json:"delta_failed"`
}

func (c *deltaCounters) snapshot() DeltaSnapshot {
	return DeltaSnapshot{
		PiecesFound:        c.PiecesFound.Load(),
		BytesFound:         c.BytesFound.Load(),
		PiecesDelta:        c.PiecesDelta.Load(),
		BytesDelta:         c.BytesDelta.Load(),
		DeltaBytesSent:     c.DeltaBytesSent.Load(),
		DeltaBytesReceived: c.DeltaBytesReceived.Load(),
		DeltaFailed:        c.DeltaFailed.Load(),
	}
}

// tally is one file's share of the counters, for its debug log line.
type tally struct {
	mu                          sync.Mutex
	local, found, delta, failed int
	foundBytes, deltaBytes      int64
	fetched                     int // piece indexes fetched whole beside the local copy
	fetchedBytes                int64
	sent, received              int64

	tookLocal, tookFound, tookOld time.Duration // wall time: chunk store, found pieces, all of the old version's work
	tookSearch                    time.Duration // the rolling search's part of tookFound
	rolled                        int64         // bytes the rolling search rolled over
}

// planLocal fills part from local data, cheapest source first: the chunk
// store (planStore) for the pieces it holds; for the others, the old
// version of the file at abs (rolling search), then piece deltas against
// the old bytes from live owners of w, then whole pieces from them. The two
// run side by side: they fill disjoint pieces, and the network work overlaps
// the local copy (an appended piece is on its way while the unchanged ones
// are copied). What is still missing is left for pullFile's fetch. It
// returns only context and chunk store errors: trouble with the old file, a
// delta or a source just leaves pieces to fetch there.
func (d *planner) planLocal(ctx context.Context, w index.Want, part *chunkstore.Partial, abs string) error {
	m := &w.Manifest
	began := time.Now()
	missing := part.Missing()
	t := &tally{}
	var inStore, elsewhere []int // missing pieces the chunk store holds, and the others
	for _, i := range missing {
		if _, ok := d.store.Locate(m.Pieces[i].Hash); ok {
			inStore = append(inStore, i)
		} else {
			elsewhere = append(elsewhere, i)
		}
	}
	ie, ok := d.idx.Get(m.Path)
	hasOld := ok && ie.Manifest.Kind == manifest.KindFile && !ie.Manifest.Deleted && ie.Manifest.Size > 0
	srcs := d.sources(w.Owners)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := d.planStore(gctx, m, part, inStore)
		t.tookLocal = time.Since(began)
		return err
	})
	if len(elsewhere) > 0 {
		g.Go(func() error {
			if hasOld {
				if err := d.fromOld(gctx, m, &ie.Manifest, part, abs, elsewhere, srcs, t); err != nil {
					return err
				}
			}
			return d.fetchSome(gctx, m, part, elsewhere, srcs, t)
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
	t.local = max(len(missing)-len(left)-t.found-t.delta-t.fetched, 0)
	d.log.Debug("pieces planned", "path", m.Path, "pieces", len(m.Pieces),
		"local", t.local, "found", t.found, "found_bytes", t.foundBytes,
		"delta", t.delta, "delta_bytes", t.deltaBytes, "delta_sent", t.sent, "delta_received", t.received,
		"delta_failed", t.failed, "fetched", t.fetched, "fetched_bytes", t.fetchedBytes,
		"fetch", len(left), "fetch_bytes", leftBytes,
		"took_local", t.tookLocal.Round(time.Millisecond), "took_found", t.tookFound.Round(time.Millisecond),
		"took_search", t.tookSearch.Round(time.Millisecond), "rolled", t.rolled,
		"took_old", t.tookOld.Round(time.Millisecond), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// fetchSome fetches whole the pieces of want that part still misses, from
// srcs, beside the local copy. A failed fetch is logged and left to
// pullFile's fetch of whatever is missing then; only ctx's end is an error.
func (d *planner) fetchSome(ctx context.Context, m *manifest.Manifest, part *chunkstore.Partial, want []int, srcs []transfer.Source, t *tally) error {
	if len(srcs) == 0 {
		return nil
	}
	st, err := d.fetchWhole(ctx, m, subsetSink{part, want}, srcs)
	t.mu.Lock()
	t.fetched += st.Written
	t.fetchedBytes += st.Bytes
	t.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Debug("fetch beside the local copy", "path", m.Path, "err", err)
	}
	return nil
}

// subsetSink is the part of a partial a fetch may fill: the pieces of want
// it still misses. Writes go to the partial (WriteVerifiedPiece included).
type subsetSink struct {
	*chunkstore.Partial
	want []int
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

// planStore is plan (pull.go) on storeCopyParallel goroutines (at least
// GOMAXPROCS), hashing each piece once: it fills every piece of candidates
// (indexes of part's missing pieces, located in the chunk store: one piece
// buffer per goroutine, none when there is nothing to copy) that any file
// or partial in the chunk store holds, read with ReadPiece
// (which verifies the bytes it returns against the hash) and written with
// WriteVerifiedPiece. Pieces it cannot find stay missing. Copying the
// unchanged pieces of a large file is most of an update's time; hashing
// runs on every core while other copies wait on their direct writes
// (192 MiB: ~880 ms with 2 at once, ~490 ms with 8, on the dev VM).
func (d *planner) planStore(ctx context.Context, m *manifest.Manifest, part *chunkstore.Partial, candidates []int) error {
	// One index per hash: WritePiece fills every index with that hash.
	var missing []int
	seen := make(map[manifest.ID]bool)
	for _, i := range candidates {
		if h := m.Pieces[i].Hash; !seen[h] {
			seen[h] = true
			missing = append(missing, i)
		}
	}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(max(runtime.GOMAXPROCS(0), storeCopyParallel), len(missing)) {
		g.Go(func() error {
			buf := make([]byte, min(m.PieceSize, m.Size))
			for {
				k := int(next.Add(1) - 1)
				if k >= len(missing) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				i := missing[k]
				if part.Have(i) { // resumed or found meanwhile
					continue
				}
				data, err := d.store.ReadPiece(m.Pieces[i].Hash, buf)
				if errors.Is(err, chunkstore.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if err := part.WriteVerifiedPiece(i, data); err != nil {
					return err
				}
				d.stats.PiecesLocal.Add(1)
				d.stats.BytesLocal.Add(int64(len(data)))
			}
		})
	}
	return g.Wait()
}

// fromOld fills the wanted pieces of part from the old version of the file
// at abs (old is its manifest in the index): pieces the rolling search
// finds there, then piece deltas against it from srcs.
func (d *planner) fromOld(ctx context.Context, m, old *manifest.Manifest, part *chunkstore.Partial, abs string, want []int, srcs []transfer.Source, t *tally) error {
	f, fi, err := openRegular(abs)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.log.Debug("old version", "path", m.Path, "err", err)
		}
		return nil
	}
	defer f.Close()
	if fi.Size() == 0 {
		return nil
	}
	size := fi.Size()
	began := time.Now()
	defer func() { t.tookOld = time.Since(began) }()
	job := func(matches []delta.Match) deltaJob {
		return deltaJob{
			fetch: d.fetcher, sink: part, basis: f, size: size, m: m, matches: matches,
			srcs: srcs, stats: d.stats, log: d.log,
		}
	}
	inPlace, search := splitInPlace(old, m, want)
	g, gctx := errgroup.WithContext(ctx)
	if len(inPlace) > 0 && len(srcs) > 0 {
		// Edited in place: nothing to search for; the deltas start at once.
		g.Go(func() error {
			j := job(nil)
			return j.run(gctx, inPlace, t)
		})
	}
	if len(search) > 0 {
		g.Go(func() error {
			known := append(delta.KnownRanges(old, m, search), pieceRanges(m, inPlace)...)
			res, err := delta.FindKnown(gctx, f, size, m, search, known)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				d.log.Debug("rolling search", "path", m.Path, "err", err)
				res.Matches = nil
			}
			t.tookSearch = time.Since(began)
			t.rolled = res.Stats.Rolled
			if err := copyFound(gctx, f, m, part, res.Matches, &d.stats.deltaCounters, t, d.log); err != nil {
				return err
			}
			t.tookFound = time.Since(began)
			if len(srcs) == 0 {
				return nil
			}
			j := job(res.Matches)
			return j.run(gctx, search, t)
		})
	}
	return g.Wait()
}

// maxInPlaceRun is the longest run of changed pieces splitInPlace takes for
// an edit in place. Longer runs between unchanged pieces may hold shifted
// data (an insertion and a later deletion), which the rolling search finds.
const maxInPlaceRun = 2

// splitInPlace splits want (pieces of m to get) into those edited in place
// and the others. A piece is edited in place when both versions have the
// same piece size and it lies in a run of at most maxInPlaceRun changed
// pieces that starts at the beginning of the file or after a piece both
// versions have at the same index, and ends before such a piece or at the
// end of both versions, which have the same size. Its old bytes are then at
// its own offset: the rolling search has nothing to find and is not run
// over it (a piece copied there from elsewhere in the file is the only
// loss, and its delta still costs little).
func splitInPlace(old, m *manifest.Manifest, want []int) (inPlace, search []int) {
	if old.PieceSize != m.PieceSize {
		return nil, want
	}
	n := min(len(old.Pieces), len(m.Pieces))
	same := func(i int) bool { return i < n && old.Pieces[i].Hash == m.Pieces[i].Hash }
	sameEnd := old.Size == m.Size
	ok := make([]bool, len(m.Pieces))
	for s := 0; s < len(m.Pieces); {
		if same(s) {
			s++
			continue
		}
		e := s
		for e < len(m.Pieces) && !same(e) {
			e++
		}
		if e-s <= maxInPlaceRun && ((e < n) || (e == len(m.Pieces) && sameEnd)) {
			for i := s; i < e; i++ {
				ok[i] = true
			}
		}
		s = e
	}
	for _, i := range want {
		if i >= 0 && i < len(ok) && ok[i] {
			inPlace = append(inPlace, i)
		} else {
			search = append(search, i)
		}
	}
	return inPlace, search
}

// pieceRanges returns the byte ranges of the given pieces of m.
func pieceRanges(m *manifest.Manifest, pieces []int) []delta.Range {
	out := make([]delta.Range, 0, len(pieces))
	for _, i := range pieces {
		out = append(out, delta.Range{Off: m.PieceOffset(i), Len: m.PieceLen(i)})
	}
	return out
}

// errNotRegular: the old version's path holds no regular file (a symlink is
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

// pieceWriter is where pieces from the old version go (*chunkstore.Partial):
// WritePiece verifies that data has piece i's hash (chunkstore.ErrBadPiece
// otherwise) and records it, so the chunk store knows the piece is present.
type pieceWriter interface {
	Have(i int) bool
	WritePiece(i int, data []byte) error
}

// copyWorkers bounds the goroutines that copy found pieces (each reads,
// hashes and writes a piece at a time).
const copyWorkers = 4

// copyFound reads every match of the rolling search from basis and writes
// it into sink, on up to copyWorkers goroutines (GOMAXPROCS at most). A
// piece that no longer has its hash (the old file changed since the search)
// is skipped; it stays missing. Matches of one hash are written once:
// WritePiece fills every index with that hash.
func copyFound(ctx context.Context, basis io.ReaderAt, m *manifest.Manifest, sink pieceWriter, matches []delta.Match, c *deltaCounters, t *tally, log *slog.Logger) error {
	seen := make(map[manifest.ID]bool, len(matches))
	var todo []delta.Match
	for _, mt := range matches {
		h := m.Pieces[mt.Piece].Hash
		if seen[h] || sink.Have(mt.Piece) {
			continue
		}
		seen[h] = true
		todo = append(todo, mt)
	}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(runtime.GOMAXPROCS(0), copyWorkers, len(todo)) {
		g.Go(func() error {
			var buf []byte
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				mt := todo[k]
				n := m.PieceLen(mt.Piece)
				if int64(cap(buf)) < n {
					buf = make([]byte, n)
				}
				data := buf[:n]
				if _, err := basis.ReadAt(data, mt.Offset); err != nil {
					log.Debug("old version changed", "path", m.Path, "piece", mt.Piece, "err", err)
					continue
				}
				if err := sink.WritePiece(mt.Piece, data); err != nil {
					if errors.Is(err, chunkstore.ErrBadPiece) {
						log.Debug("old version changed", "path", m.Path, "piece", mt.Piece, "err", err)
						continue
					}
					return fmt.Errorf("peer: piece %d of %q from the old version: %w", mt.Piece, m.Path, err)
				}
				c.PiecesFound.Add(1)
				c.BytesFound.Add(n)
				t.mu.Lock()
				t.found++
				t.foundBytes += n
				t.mu.Unlock()
			}
		})
	}
	return g.Wait()
}

// deltaFetcher fetches piece h (length bytes) from src as a delta against
// basis and returns the rebuilt piece (*transfer.Fetcher). The stats count
// what went over the wire, also when it fails; any error means the piece is
// to be fetched whole.
type deltaFetcher interface {
	FetchDelta(ctx context.Context, src transfer.Source, h manifest.ID, length int, basis []byte) ([]byte, transfer.DeltaStats, error)
}

// deltaJob fetches piece deltas for one file.
type deltaJob struct {
	fetch   deltaFetcher
	sink    pieceWriter
	basis   io.ReaderAt // the old version
	size    int64       // its size
	m       *manifest.Manifest
	matches []delta.Match // the rolling search's, for BasisRange
	srcs    []transfer.Source
	stats   *Stats
	log     *slog.Logger
}

// run tries a delta for each of the pieces that has old bytes at its place
// (deltaParallel at a time, sources taken in turn). A failed delta leaves
// its piece missing. It returns only context and chunk store errors.
func (j *deltaJob) run(ctx context.Context, pieces []int, t *tally) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(deltaParallel)
	var mu sync.Mutex // guards useful, useless
	useful, useless := 0, 0
	k := 0
	for _, i := range pieces {
		n := j.m.PieceLen(i)
		if n < minDeltaPiece || j.sink.Have(i) {
			continue
		}
		off, bn := delta.BasisRange(j.m, j.matches, i, j.size)
		if bn == 0 {
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
			r, err := j.one(gctx, i, n, off, bn, src, t)
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

// one fetches the delta of piece i (n bytes) against the basis bytes
// [off, off+bn) from src and writes the piece.
func (j *deltaJob) one(ctx context.Context, i int, n, off, bn int64, src transfer.Source, t *tally) (deltaResult, error) {
	c := &j.stats.deltaCounters
	fail := func(why error) (deltaResult, error) {
		if ctx.Err() != nil {
			return deltaFailed, ctx.Err()
		}
		c.DeltaFailed.Add(1)
		t.mu.Lock()
		t.failed++
		t.mu.Unlock()
		j.log.Debug("delta failed: piece fetched whole", "path", j.m.Path, "piece", i, "source", src.ID.Short(), "err", why)
		return deltaFailed, nil
	}
	basis := make([]byte, bn)
	if _, err := j.basis.ReadAt(basis, off); err != nil {
		return fail(fmt.Errorf("read old version: %w", err))
	}
	piece, ds, err := j.fetch.FetchDelta(ctx, src, j.m.Pieces[i].Hash, int(n), basis)
	c.DeltaBytesSent.Add(int64(ds.SignatureBytes))
	c.DeltaBytesReceived.Add(int64(ds.DeltaBytes))
	j.stats.BytesReceived.Add(int64(ds.DeltaBytes))
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
		return deltaFailed, fmt.Errorf("peer: piece %d of %q from a delta: %w", i, j.m.Path, err)
	}
	c.PiecesDelta.Add(1)
	c.BytesDelta.Add(n)
	t.mu.Lock()
	t.delta++
	t.deltaBytes += n
	t.mu.Unlock()
	if 2*int64(ds.DeltaBytes) < n {
		return deltaUseful, nil
	}
	return deltaUseless, nil
}
