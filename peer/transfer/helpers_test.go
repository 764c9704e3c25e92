package transfer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChildServer(dir) // never returns
	}
	goleak.VerifyTestMain(m)
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func newIdentity(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeTestFile writes a file of size bytes into dir: random pieces, with
// piece 1 repeated at every index divisible by 7 (identical pieces), and
// returns its manifest (built by manifest.Build) and content.
func writeTestFile(t testing.TB, dir string, size, pieceSize int64) (*manifest.Manifest, string, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(size), uint64(pieceSize)))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if size >= 2*pieceSize {
		rep := data[pieceSize : 2*pieceSize]
		for off := int64(0); off+pieceSize <= size; off += 7 * pieceSize {
			copy(data[off:], rep)
		}
	}
	path := filepath.Join(dir, "file.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Build(context.Background(), bytes.NewReader(data), pieceSize)
	if err != nil {
		t.Fatal(err)
	}
	m.Path = "file.bin"
	return &m, path, data
}

// fileSource is a PieceSource over one real file, verifying like the chunk
// store does.
type fileSource struct {
	f    *os.File
	locs map[manifest.ID][2]int64 // offset, length
}

func newFileSource(t testing.TB, path string, m *manifest.Manifest) *fileSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	s := &fileSource{f: f, locs: make(map[manifest.ID][2]int64)}
	for i, p := range m.Pieces {
		s.locs[p.Hash] = [2]int64{m.PieceOffset(i), m.PieceLen(i)}
	}
	return s
}

var errNoPiece = errors.New("no such piece")

func (s *fileSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	loc, ok := s.locs[h]
	if !ok {
		return nil, errNoPiece
	}
	if int64(cap(buf)) < loc[1] {
		buf = make([]byte, loc[1])
	}
	buf = buf[:loc[1]]
	if _, err := s.f.ReadAt(buf, loc[0]); err != nil {
		return nil, err
	}
	if manifest.Hash(buf) != h {
		return nil, errors.New("stale piece")
	}
	return buf, nil
}

// hookSource wraps a PieceSource for tests: before(h) runs before every read
// and may block; corrupt(h) decides whether to flip a byte of the result.
type hookSource struct {
	PieceSource
	before  func(h manifest.ID)
	corrupt func(h manifest.ID) bool
	mu      sync.Mutex
	served  map[manifest.ID]int
}

func (s *hookSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	if s.before != nil {
		s.before(h)
	}
	data, err := s.PieceSource.ReadPiece(h, buf)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.served == nil {
		s.served = make(map[manifest.ID]int)
	}
	s.served[h]++
	s.mu.Unlock()
	if s.corrupt != nil && s.corrupt(h) {
		data[len(data)/2] ^= 0x55
	}
	return data, nil
}

func (s *hookSource) count(h manifest.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[h]
}

// fileSink is a Sink writing into a real file, verifying each piece.
type fileSink struct {
	m    *manifest.Manifest
	f    *os.File
	mu   sync.Mutex
	have []bool
}

func newFileSink(t testing.TB, dir string, m *manifest.Manifest) *fileSink {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "partial.bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(m.Size); err != nil {
		t.Fatal(err)
	}
	return &fileSink{m: m, f: f, have: make([]bool, len(m.Pieces))}
}

func (s *fileSink) Missing() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i, h := range s.have {
		if !h {
			out = append(out, i)
		}
	}
	return out
}

func (s *fileSink) WritePiece(i int, data []byte) error {
	if manifest.Hash(data) != s.m.Pieces[i].Hash {
		return errors.New("sink: bad piece")
	}
	if _, err := s.f.WriteAt(data, s.m.PieceOffset(i)); err != nil {
		return err
	}
	s.mu.Lock()
	s.have[i] = true
	s.mu.Unlock()
	return nil
}

func (s *fileSink) content(t testing.TB) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(s.f, 0, s.m.Size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testServer is a running piece server on loopback.
type testServer struct {
	id     *identity.Identity
	l      *transport.NodeListener // QUIC and TCP on one port
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

func (s *testServer) source() Source {
	return Source{ID: s.id.ID, Addr: s.l.Addr().String()}
}

// stop cancels Serve and waits for it; safe to call twice.
func (s *testServer) stop() {
	s.cancel()
	<-s.done
	s.done = closedErrChan()
}

func closedErrChan() chan error {
	c := make(chan error, 1)
	close(c)
	return c
}

func startServer(t testing.TB, src PieceSource, auth Authorizer, opts ...ServerOption) *testServer {
	t.Helper()
	return startServerAs(t, newIdentity(t), src, auth, opts...)
}

func startServerAs(t testing.TB, id *identity.Identity, src PieceSource, auth Authorizer, opts ...ServerOption) *testServer {
	t.Helper()
	l, err := transport.ListenNode("127.0.0.1:0", id, ListenOptions(), transport.ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := NewServer(src, auth, testLog(t), opts...)
	s := &testServer{id: id, l: l, srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		s.stop()
		l.Close()
	})
	return s
}

func allowAll(identity.DeviceID) bool { return true }

func newFetcher(t testing.TB, id *identity.Identity, opt FetchOptions) *Fetcher {
	t.Helper()
	f := NewFetcher(id, opt, testLog(t))
	t.Cleanup(func() { f.Close() })
	return f
}

func distinct(m *manifest.Manifest) int {
	seen := make(map[manifest.ID]bool)
	for _, p := range m.Pieces {
		seen[p.Hash] = true
	}
	return len(seen)
}
