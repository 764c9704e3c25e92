package transfer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/bandwidth"
)

// Source is a peer that owns the wanted file version.
type Source struct {
	ID   identity.DeviceID
	Addr string // host:port of its piece server
	// Folder is the folder the pieces are wanted for (its tracker name;
	// "" = the default folder): every request to this source names it, and
	// the source serves it only to peers of that folder.
	Folder string
	// Partial marks a peer that may hold only some pieces of the version
	// (it is downloading it too): the fetch asks it what it holds and
	// requests only those pieces (swarm_fetch.go).
	Partial bool
}

// Sink receives the verified pieces of one file (a *chunkstore.Partial).
// Contract: Missing lists the piece indexes still needed, in order;
// WritePiece stores piece i (it may verify the hash again) and must not
// keep data after it returns. WritePiece is called from several goroutines
// at once, for different indexes (disk writes overlap the network).
type Sink interface {
	Missing() []int
	WritePiece(i int, data []byte) error
}

// VerifiedWriter is an optional Sink method (*chunkstore.Partial has it):
// WriteVerifiedPiece is WritePiece for data whose hash the caller has just
// checked, so the sink need not hash it again. The fetcher uses it when
// present; it verifies every piece before writing either way.
type VerifiedWriter interface {
	WriteVerifiedPiece(i int, data []byte) error
}

// Fetcher defaults; see FetchOptions.
const (
	DefaultWindow         = 8
	DefaultWindowBytes    = 16 << 20
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxDuplicates  = 2
	DefaultMaxInFlight    = 32 << 20
	// DefaultConns is 2: with separate processes on a 2-core machine one
	// connection's event loop at each end limits a one-source download
	// (benchmarks/e2e_perf.sh, 1 GiB: 9.3-6.7 s with 2 against 10.5-12.8 s
	// with 1, same peak RSS within 3 MiB).
	DefaultConns = 2
	// BulkMinSize is the size from which a file is fetched on the bulk
	// lanes (FetchOptions.BulkDialer). Over TCP a 1 GiB file moves with
	// half the CPU of QUIC, while 10 000 files of 4 KiB cost about 15 %
	// more (benchmarks/e2e_speed.sh small: receivers 5.7-6.6 against
	// 4.8-6.1 CPU-seconds), so only large files take the bulk lanes.
	BulkMinSize = 8 << 20
)

// FetchOptions tunes a Fetcher. Zero fields take the defaults above.
type FetchOptions struct {
	// Transport configures the connections to sources (QUIC and TCP).
	Transport transport.Options
	// Dialer dials sources (its mode, and its memory of which transport
	// worked where: the node's, shared with its tracker connection); nil:
	// a transport.Dialer in ModeAuto with Transport.
	Dialer *transport.Dialer
	// BulkDialer dials the connections that fetch files of BulkMinSize
	// or more (a Dialer.Bulk: TCP first on a LAN); nil: Dialer.
	BulkDialer *transport.Dialer
	// Window is the most requests in flight to one source per file.
	Window int
	// WindowBytes is the most piece bytes in flight to one source per file
	// (at least one piece is always allowed).
	WindowBytes int64
	// RequestTimeout bounds the wait for a response and every stall while
	// its data arrives; a source that exceeds it is dropped for the file as
	// too slow (a merely slower source is overtaken in the endgame).
	RequestTimeout time.Duration
	// MaxDuplicates is how many sources may work on one piece at once in
	// the endgame.
	MaxDuplicates int
	// MaxInFlight bounds the piece bytes in flight over all fetches of the
	// Fetcher (its buffer memory), however many files and sources run at
	// once.
	MaxInFlight int64
	// Conns is how many QUIC connections the fetcher keeps to each source;
	// a file's requests to the source are spread over them. quic-go runs
	// one event loop per connection, so more than one lets a fast link use
	// more than one core at each end. At most MaxRemoteConns/2.
	Conns int
	// Observe, if set, is told about every piece used (observe.go).
	Observe PieceObserver
	// Bandwidth, if set, limits what the fetcher reads from sources
	// (its receive limit, shared with all else it limits: bandwidth.go).
	Bandwidth *bandwidth.Limiter
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.WindowBytes <= 0 {
		o.WindowBytes = DefaultWindowBytes
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxDuplicates <= 0 {
		o.MaxDuplicates = DefaultMaxDuplicates
	}
	if o.Conns <= 0 {
		o.Conns = DefaultConns
	}
	// at most half a server's MaxRemoteConns: the connections of a
	// previous run that the server has not yet seen end must still fit
	o.Conns = min(o.Conns, MaxRemoteConns/2)
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	o.MaxInFlight = max(o.MaxInFlight, MaxPieceLen)
	return o
}

// SourceStats is what one source did for one Fetch.
type SourceStats struct {
	ID         identity.DeviceID
	Bytes      int64 // verified piece bytes used
	Pieces     int   // distinct pieces used
	Duplicates int   // verified pieces that arrived after another source's copy
	BadPieces  int   // pieces whose hash did not match
	Dropped    error // why the source was dropped for this file; nil if not
}

// FetchStats is the outcome of one Fetch.
type FetchStats struct {
	Pieces     int   // distinct pieces fetched
	Written    int   // piece indexes written (>= Pieces with identical pieces)
	Bytes      int64 // verified bytes fetched (each distinct piece once)
	BadPieces  int
	Duplicates int // endgame duplicate requests started
	Duration   time.Duration
	Sources    []SourceStats // in the order of the sources argument
}

// Fetcher downloads files from several sources at once. It owns a pool of
// connections (one per source device) shared by all its fetches; Close ends
// them. Fetch may be called from many goroutines.
type Fetcher struct {
	id   *identity.Identity
	opt  FetchOptions
	log  *slog.Logger
	pool *connPool
	bufs *bufPool
	mem  *semaphore.Weighted // piece bytes in flight, all fetches
	load fetcherLoad         // work in hand (observe.go)

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // running fetches
}

// NewFetcher returns a fetcher that dials sources as id.
func NewFetcher(id *identity.Identity, opt FetchOptions, log *slog.Logger) *Fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	opt = opt.withDefaults()
	dialer := opt.Dialer
	if dialer == nil {
		dialer = transport.NewDialer(id, opt.Transport, transport.ModeAuto)
	}
	pool := newConnPool(dialer, log)
	if opt.BulkDialer != nil {
		pool.bulk = opt.BulkDialer
	}
	return &Fetcher{
		id: id, opt: opt, log: log,
		pool: pool.limitedBy(opt.Bandwidth),
		bufs: newBufPool(),
		mem:  semaphore.NewWeighted(opt.MaxInFlight),
		ctx:  ctx, cancel: cancel,
	}
}

// Close cancels running fetches, waits for them, closes every connection and
// releases the piece buffers. Later fetches fail with ErrClosed.
func (f *Fetcher) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	f.pool.close()
	f.bufs.close()
	return nil
}

// Fetch downloads the pieces of m that sink is missing from sources, in
// parallel, and writes each verified piece to every index of m that holds
// it. It returns when all are written (nil error), when no source can
// supply what is left (an error wrapping ErrNoSources), when the sink fails,
// or when ctx ends. The stats are valid in every case.
func (f *Fetcher) Fetch(ctx context.Context, m *manifest.Manifest, sink Sink, sources []Source) (FetchStats, error) {
	begin := time.Now()
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return FetchStats{}, ErrClosed
	}
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()
	f.load.files.Add(1)
	defer f.load.files.Add(-1)

	items, more, err := workItems(m, sink.Missing())
	if err != nil {
		return FetchStats{}, err
	}
	stats := FetchStats{Sources: make([]SourceStats, len(sources))}
	for i, s := range sources {
		stats.Sources[i].ID = s.ID
	}
	if len(items) == 0 {
		stats.Duration = time.Since(begin)
		return stats, nil
	}
	if len(sources) == 0 {
		return stats, fmt.Errorf("%w: fetch %s: no sources given", ErrNoSources, m.Path)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(f.ctx, cancel)
	defer stop()
	job := &fetchJob{
		f: f, m: m, sink: sink, cancel: cancel, more: more,
		sched:  newScheduler(items, sources, f.opt.MaxDuplicates),
		window: f.window(m),
	}
	var workers sync.WaitGroup
	stopPolls := job.pollHolders(ctx, sources) // swarm_fetch.go
	for si, src := range sources {
		workers.Add(1)
		go func() {
			defer workers.Done()
			job.runSource(ctx, si, src)
		}()
	}
	workers.Wait()
	stopPolls()

	srcStats, dups, remaining := job.sched.snapshot()
	stats.Sources = srcStats
	stats.Duplicates = dups
	for _, s := range srcStats {
		stats.BadPieces += s.BadPieces
	}
	job.mu.Lock()
	stats.Pieces, stats.Written, stats.Bytes = job.pieces, job.written, job.bytes
	werr := job.writeErr
	job.mu.Unlock()
	stats.Duration = time.Since(begin)
	switch {
	case werr != nil:
		return stats, werr
	case stats.Pieces == len(items):
		return stats, nil
	case f.ctx.Err() != nil:
		return stats, fmt.Errorf("fetch %s: %w", m.Path, ErrClosed)
	case ctx.Err() != nil:
		return stats, fmt.Errorf("fetch %s: %w", m.Path, context.Cause(ctx))
	default:
		return stats, fmt.Errorf("%w: fetch %s: %d of %d pieces missing: %s",
			ErrNoSources, m.Path, remaining, len(items), dropSummary(srcStats))
	}
}

// fetchJob is the state of one Fetch shared by its source workers.
type fetchJob struct {
	f      *Fetcher
	m      *manifest.Manifest
	sink   Sink
	sched  *scheduler
	window int
	cancel context.CancelFunc // ends the whole fetch
	more   map[*item][]int    // the indexes after the first of items that occur more than once; read-only

	mu       sync.Mutex
	pieces   int
	written  int
	bytes    int64
	writeErr error // first sink failure; ends the fetch
}

// write stores a verified piece at every index that holds it. A sink
// failure ends the fetch.
func (j *fetchJob) write(it *item, data []byte) {
	writePiece := j.sink.WritePiece
	if vw, ok := j.sink.(VerifiedWriter); ok {
		writePiece = vw.WriteVerifiedPiece
	}
	n := 0
	var err error
	indexes := []int{it.index}
	if more := j.more[it]; more != nil {
		indexes = append(indexes, more...)
	}
	for _, i := range indexes {
		if err = writePiece(i, data); err != nil {
			err = fmt.Errorf("fetch %s: write piece %d: %w", j.m.Path, i, err)
			break
		}
		n++
	}
	j.mu.Lock()
	j.written += n
	if err == nil {
		j.pieces++
		j.bytes += int64(len(data))
	} else if j.writeErr == nil {
		j.writeErr = err
	}
	j.mu.Unlock()
	if err != nil {
		j.cancel()
	}
}

// window returns how many requests of m's pieces may be in flight per source.
func (f *Fetcher) window(m *manifest.Manifest) int {
	byBytes := int(f.opt.WindowBytes / max(m.PieceSize, 1))
	return max(1, min(f.opt.Window, byBytes))
}

func dropSummary(ss []SourceStats) string {
	var b []byte
	for i, s := range ss {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, s.ID.Short()...)
		if s.Dropped != nil {
			b = append(b, ": "...)
			b = append(b, s.Dropped.Error()...)
		} else {
			b = append(b, ": lacks the rest"...)
		}
	}
	return string(b)
}

// Networks lists the transport ("quic", "tcp") of each live connection the
// fetcher keeps to device id.
func (f *Fetcher) Networks(id identity.DeviceID) []string { return f.pool.networks(id) }
