package transfer

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

const testPieceSize = 16 << 10

func TestFetchThreeSources(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 40*testPieceSize+123, testPieceSize)
	var srcs []Source
	for range 3 {
		srcs = append(srcs, startServer(t, newFileSource(t, path, m), allowAll).source())
	}
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{Window: 4, Conns: 2})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v (stats %+v)", err, st)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs from the source")
	}
	if st.Pieces != distinct(m) || st.Written != len(m.Pieces) {
		t.Fatalf("stats: %d pieces, %d written; want %d distinct, %d written", st.Pieces, st.Written, distinct(m), len(m.Pieces))
	}
	sum := 0
	for _, s := range st.Sources {
		sum += s.Pieces
		if s.Dropped != nil || s.BadPieces != 0 {
			t.Errorf("source %s: %+v", s.ID.Short(), s)
		}
	}
	if sum != st.Pieces {
		t.Fatalf("sources delivered %d pieces, stats say %d", sum, st.Pieces)
	}
	if len(sink.Missing()) != 0 {
		t.Fatal("sink still misses pieces")
	}
	// A second fetch of a complete file does nothing.
	st, err = f.Fetch(ctx, m, sink, srcs)
	if err != nil || st.Pieces != 0 {
		t.Fatalf("re-fetch: %+v, %v", st, err)
	}
}

func TestFetchIdenticalPiecesOnce(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 30*testPieceSize, testPieceSize)
	src := &hookSource{PieceSource: newFileSource(t, path, m)}
	srv := startServer(t, src, allowAll, WithUploadLimit(50e6)) // the rate-limited write path
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	if _, err := f.Fetch(ctx, m, sink, []Source{srv.source()}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	rep := m.Pieces[1].Hash
	if m.Pieces[0].Hash != rep || m.Pieces[7].Hash != rep {
		t.Fatal("test file lacks identical pieces")
	}
	if n := src.count(rep); n != 1 {
		t.Fatalf("repeated piece served %d times, want 1", n)
	}
}

func TestFetchDropsSourceWithBadPiece(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 24*testPieceSize, testPieceSize)
	badServed := make(chan struct{})
	var once sync.Once
	bad := &hookSource{
		PieceSource: newFileSource(t, path, m),
		corrupt: func(manifest.ID) bool {
			once.Do(func() { close(badServed) })
			return true
		},
	}
	// The good source answers only once the bad one has served a piece, so
	// the bad source is certain to be asked.
	good := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-badServed }}
	srcs := []Source{startServer(t, bad, allowAll).source(), startServer(t, good, allowAll).source()}
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	b := st.Sources[0]
	if b.BadPieces == 0 || !errors.Is(b.Dropped, ErrBadPiece) || b.Pieces != 0 {
		t.Fatalf("bad source stats %+v", b)
	}
	if st.BadPieces != b.BadPieces || st.Sources[1].Pieces != st.Pieces {
		t.Fatalf("stats %+v", st)
	}
}

func TestFetchSourceDiesMidTransfer(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 40*testPieceSize, testPieceSize)
	const before = 5
	var served atomic.Int32
	dying := make(chan struct{}) // closed once the dying source has served `before` pieces
	dead := make(chan struct{})  // closed once it is stopped
	var dyingOnce sync.Once
	dies := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) {
		if served.Add(1) > before {
			dyingOnce.Do(func() { close(dying) })
			<-dead // hang with requests in flight until the server is killed
		}
	}}
	good := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-dead }}
	// Past its death the source serves nothing: a request held in the hook
	// must not slip out before the server's connections are closed.
	dyingSrv := startServer(t, diedSource{dies, dead}, allowAll)
	srcs := []Source{dyingSrv.source(), startServer(t, good, allowAll).source()}
	go func() {
		<-dying
		dyingSrv.cancel() // closes its connections; its stuck reads finish below
		close(dead)
	}()
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	d := st.Sources[0]
	if d.Dropped == nil || d.Pieces > before {
		t.Fatalf("dead source stats %+v", d)
	}
	if st.Sources[1].Pieces+d.Pieces != st.Pieces {
		t.Fatalf("stats %+v", st)
	}
}

// diedSource fails every read that ends after dead is closed.
type diedSource struct {
	PieceSource
	dead <-chan struct{}
}

func (s diedSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	data, err := s.PieceSource.ReadPiece(h, buf)
	select {
	case <-s.dead:
		return nil, errors.New("source died")
	default:
		return data, err
	}
}

func TestFetchSourceLacksSomePieces(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 20*testPieceSize, testPieceSize)
	// partial has only the first half; full has everything but answers
	// only after partial has been asked for a piece it lacks.
	half := make(map[manifest.ID]bool)
	for _, p := range m.Pieces[:10] {
		half[p.Hash] = true
	}
	asked := make(chan struct{})
	var once sync.Once
	partial := &hookSource{PieceSource: &subsetSource{newFileSource(t, path, m), half, func() { once.Do(func() { close(asked) }) }}}
	full := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-asked }}
	srcs := []Source{startServer(t, partial, allowAll).source(), startServer(t, full, allowAll).source()}
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{Window: 2})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	if st.Sources[0].Dropped != nil {
		t.Fatalf("a source lacking some pieces was dropped: %+v", st.Sources[0])
	}
}

// subsetSource has only the pieces in has; onMiss runs on every miss.
type subsetSource struct {
	PieceSource
	has    map[manifest.ID]bool
	onMiss func()
}

func (s *subsetSource) ReadPiece(h manifest.ID, buf []byte) ([]byte, error) {
	if !s.has[h] {
		s.onMiss()
		return nil, errNoPiece
	}
	return s.PieceSource.ReadPiece(h, buf)
}

func TestFetchNoSourceHasPiece(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 8*testPieceSize, testPieceSize)
	have := map[manifest.ID]bool{}
	for _, p := range m.Pieces[1:] {
		have[p.Hash] = true
	}
	delete(have, m.Pieces[3].Hash)
	srv := startServer(t, &subsetSource{newFileSource(t, path, m), have, func() {}}, allowAll)
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, []Source{srv.source()})
	if !errors.Is(err, ErrNoSources) {
		t.Fatalf("err = %v, want ErrNoSources", err)
	}
	if got := sink.Missing(); len(got) != 1 || got[0] != 3 {
		t.Fatalf("missing %v, want [3] (stats %+v)", got, st)
	}
}

func TestFetchNonMemberRefused(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 4*testPieceSize, testPieceSize)
	client := newIdentity(t)
	refuse := func(id identity.DeviceID) bool { return id != client.ID }
	srv := startServer(t, newFileSource(t, path, m), refuse)
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, client, FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, []Source{srv.source()})
	if !errors.Is(err, ErrNoSources) {
		t.Fatalf("err = %v, want ErrNoSources", err)
	}
	if !errors.Is(st.Sources[0].Dropped, ErrForbidden) {
		t.Fatalf("source dropped for %v, want ErrForbidden", st.Sources[0].Dropped)
	}
	if len(sink.Missing()) != len(m.Pieces) {
		t.Fatal("a non-member got data")
	}
}

func TestFetchCancel(t *testing.T) {
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 4*testPieceSize, testPieceSize)
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	hang := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) {
		started <- struct{}{}
		<-release
	}}
	srv := startServer(t, hang, allowAll)
	defer close(release)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	tests := []struct {
		name    string
		stop    func(cancel context.CancelFunc)
		wantErr error
	}{
		{"context", func(cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"fetcher closed", func(context.CancelFunc) { f.Close() }, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			go func() {
				<-started
				tt.stop(cancel)
			}()
			_, err := f.Fetch(ctx, m, newFileSink(t, t.TempDir(), m), []Source{srv.source()})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := f.Fetch(context.Background(), m, newFileSink(t, t.TempDir(), m), []Source{srv.source()}); !errors.Is(err, ErrClosed) {
		t.Fatalf("fetch after Close: %v", err)
	}
}

func TestFetchEndgameOvertakesStuckSource(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 20*testPieceSize, testPieceSize)
	release := make(chan struct{})
	defer close(release) // before the servers stop (cleanup)
	stuckAsked := make(chan struct{})
	var once sync.Once
	stuck := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) {
		once.Do(func() { close(stuckAsked) })
		<-release // never answers during the fetch
	}}
	fast := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-stuckAsked }}
	srcs := []Source{startServer(t, stuck, allowAll).source(), startServer(t, fast, allowAll).source()}
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{Window: 3})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	if st.Duplicates == 0 || st.Sources[0].Pieces != 0 || st.Sources[1].Pieces != st.Pieces {
		t.Fatalf("stats %+v", st)
	}
}

func TestFetcherRedialsAfterSourceRestart(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 4*testPieceSize, testPieceSize)
	first := startServer(t, newFileSource(t, path, m), allowAll)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	if _, err := f.Fetch(ctx, m, newFileSink(t, t.TempDir(), m), []Source{first.source()}); err != nil {
		t.Fatal(err)
	}
	// The same device comes back on another port: the pooled connection is
	// dead and its address stale; the next fetch dials the new address.
	first.stop()
	id := first.id
	second := startServerAs(t, id, newFileSource(t, path, m), allowAll)
	sink := newFileSink(t, t.TempDir(), m)
	if _, err := f.Fetch(ctx, m, sink, []Source{second.source()}); err != nil {
		t.Fatalf("fetch after restart: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
}

func TestFetchDropsStalledSource(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 10*testPieceSize, testPieceSize)
	release := make(chan struct{})
	defer close(release)
	stuckAsked := make(chan struct{})
	var once sync.Once
	stuck := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) {
		once.Do(func() { close(stuckAsked) })
		<-release
	}}
	// With a window of one, the fast source holding its first piece until
	// the stuck one is asked leaves work for the stuck one.
	fast := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-stuckAsked }}
	srcs := []Source{startServer(t, stuck, allowAll).source(), startServer(t, fast, allowAll).source()}
	sink := newFileSink(t, t.TempDir(), m)
	// No endgame duplicates: only the stall timeout can recover the piece.
	f := newFetcher(t, newIdentity(t), FetchOptions{Window: 1, MaxDuplicates: 1, RequestTimeout: time.Second})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	if st.Sources[0].Dropped == nil || st.Sources[0].Pieces != 0 || st.Duplicates != 0 {
		t.Fatalf("stats %+v", st)
	}
}
