package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newID(b *testing.B) *identity.Identity {
	b.Helper()
	id, err := identity.New()
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// writeRandomFile writes size pseudo-random bytes to root/rel.
func writeRandomFile(b *testing.B, root, rel string, size int64, seed uint64) {
	b.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var seedBytes [32]byte
	seedBytes[0] = byte(seed)
	seedBytes[1] = byte(seed >> 8)
	if _, err := io.CopyN(f, rand.NewChaCha8(seedBytes), size); err != nil {
		b.Fatal(err)
	}
}

// openStore opens a chunk store of root with its state in a new directory.
func openStore(b *testing.B, root string) *chunkstore.Store {
	b.Helper()
	s, err := chunkstore.Open(root, b.TempDir(), quietLog())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// server is a piece server on loopback.
type server struct {
	id *identity.Identity
	l  *transport.Listener
}

func (s server) source() transfer.Source {
	return transfer.Source{ID: s.id.ID, Addr: s.l.Addr().String()}
}

// uploadSource serves a chunk store as a peer daemon does (peer's
// countingSource): with ReadPieceForUpload, which does not hash again a file
// whose size and mtime are those it was indexed with (every requester
// verifies what it receives).
type uploadSource struct{ s *chunkstore.Store }

func (u uploadSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	return u.s.ReadPieceForUpload(h, buf)
}

// startServer serves src until the benchmark ends.
func startServer(b *testing.B, src transfer.PieceSource, opts ...transfer.ServerOption) server {
	b.Helper()
	id := newID(b)
	l, err := transport.Listen("127.0.0.1:0", id, transport.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := transfer.NewServer(src, func(identity.DeviceID) bool { return true }, quietLog(), opts...)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ctx, l); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
		}
	}()
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		l.Close()
	})
	return server{id: id, l: l}
}

// fetchFile downloads m into a new partial of store and commits it to
// root/m.Path.
func fetchFile(ctx context.Context, f *transfer.Fetcher, store *chunkstore.Store, root string, m *manifest.Manifest, srcs []transfer.Source) (transfer.FetchStats, error) {
	p, err := store.Partial(m)
	if err != nil {
		return transfer.FetchStats{}, err
	}
	st, err := f.Fetch(ctx, m, p, srcs)
	if err != nil {
		_ = p.Discard()
		return st, err
	}
	target := filepath.Join(root, filepath.FromSlash(m.Path))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return st, err
	}
	if err := p.Commit(target); err != nil {
		return st, err
	}
	return st, nil
}

// cpuMeter reports CPU seconds per GiB moved, both ends together (this
// process runs sender and receiver): less sensitive than MB/s to other load
// on a shared machine.
type cpuMeter struct {
	start    time.Duration
	paused   time.Duration // CPU time spent between pause and resume
	pausedAt time.Duration
}

func startCPU() *cpuMeter { return &cpuMeter{start: cpuTime()} }

// pause and resume leave out what the process does in between (untimed
// work of the benchmark).
func (c *cpuMeter) pause()  { c.pausedAt = cpuTime() }
func (c *cpuMeter) resume() { c.paused += cpuTime() - c.pausedAt }

func (c *cpuMeter) report(b *testing.B, bytes int64) {
	used := cpuTime() - c.start - c.paused
	if used > 0 && bytes > 0 {
		b.ReportMetric(used.Seconds()/(float64(bytes)/(1<<30)), "cpu-s/GiB")
	}
}
