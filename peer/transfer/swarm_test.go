package transfer

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// holderSource is a partial holder for tests: it has the pieces of m whose
// indexes are in has (which may grow), serves only those and answers have
// requests with them.
type holderSource struct {
	PieceSource
	m       *manifest.Manifest
	corrupt bool   // serve every piece with a byte flipped
	before  func() // if set, runs before every piece read

	mu     sync.Mutex
	has    map[int]bool
	served map[int]int // by index: pieces served
	misses int         // requests for pieces it does not hold
}

func newHolder(t testing.TB, path string, m *manifest.Manifest, idx ...int) *holderSource {
	h := &holderSource{PieceSource: newFileSource(t, path, m), m: m, has: map[int]bool{}, served: map[int]int{}}
	h.add(idx...)
	return h
}

func (h *holderSource) add(idx ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, i := range idx {
		h.has[i] = true
	}
}

func (h *holderSource) ReadPiece(id manifest.ID, buf []byte) ([]byte, error) {
	if h.before != nil {
		h.before()
	}
	h.mu.Lock()
	ok := false
	for i := range h.has {
		if h.m.Pieces[i].Hash == id {
			ok = true
			h.served[i]++
		}
	}
	if !ok {
		h.misses++
	}
	h.mu.Unlock()
	if !ok {
		return nil, errNoPiece
	}
	data, err := h.PieceSource.ReadPiece(id, buf)
	if err == nil && h.corrupt {
		data[0] ^= 1
	}
	return data, err
}

func (h *holderSource) Held(id manifest.ID, pieces int) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id != h.m.ID || pieces != len(h.m.Pieces) || len(h.has) == 0 {
		return nil, false
	}
	bits := make([]byte, bitfieldLen(pieces))
	for i := range h.has {
		bits[i>>3] |= 1 << (i & 7)
	}
	return bits, true
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// Only partial holders have the pieces (the owner left after sending
// half to each): the fetch completes from them, each asked only for what
// it holds.
func TestFetchFromPartialHoldersOnly(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 40*testPieceSize, testPieceSize)
	n := len(m.Pieces)
	a := newHolder(t, path, m, span(0, n/2)...)
	b := newHolder(t, path, m, span(n/2, n)...)
	srcs := []Source{startServer(t, a, allowAll).source(), startServer(t, b, allowAll).source()}
	srcs[0].Partial, srcs[1].Partial = true, true
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	for i, s := range st.Sources {
		if s.Pieces == 0 || s.Dropped != nil {
			t.Errorf("holder %d: %+v", i, s)
		}
	}
}

// A holder whose pieces arrive during the fetch (it is downloading too) is
// asked for them once it says it has them; the pieces nobody holds come
// from the owner.
func TestFetchLearnsNewPiecesOfHolder(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 32*testPieceSize, testPieceSize)
	n := len(m.Pieces)
	holder := newHolder(t, path, m)
	// The owner serves nothing until the holder has (and has said it has)
	// the second half.
	ready := make(chan struct{})
	owner := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-ready }}
	srcs := []Source{startServer(t, owner, allowAll).source(), startServer(t, holder, allowAll).source()}
	srcs[1].Partial = true
	go func() {
		holder.add(span(n/2, n)...)
		close(ready)
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
	holder.mu.Lock()
	if holder.misses != 0 {
		t.Errorf("holder asked %d times for pieces it did not say it holds", holder.misses)
	}
	holder.mu.Unlock()
	if st.Sources[0].Pieces == 0 {
		t.Errorf("owner sent nothing: %+v", st.Sources)
	}
}

// A holder that sends a bad piece is dropped like any source; the owner
// supplies the rest.
func TestFetchDropsHolderWithBadPiece(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 24*testPieceSize, testPieceSize)
	bad := newHolder(t, path, m, span(0, len(m.Pieces))...)
	bad.corrupt = true
	served := make(chan struct{})
	var once sync.Once
	bad.before = func() { once.Do(func() { close(served) }) }
	good := &hookSource{PieceSource: newFileSource(t, path, m), before: func(manifest.ID) { <-served }}
	srcs := []Source{startServer(t, good, allowAll).source(), startServer(t, bad, allowAll).source()}
	srcs[1].Partial = true
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	if b := st.Sources[1]; b.BadPieces == 0 || !errors.Is(b.Dropped, ErrBadPiece) || b.Pieces != 0 {
		t.Fatalf("bad holder stats %+v", b)
	}
}

// Holders that together miss a piece, with no owner: the fetch gives up
// (ErrNoSources) instead of waiting for ever.
func TestFetchHoldersMissingPieceGivesUp(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 16*testPieceSize, testPieceSize)
	a := newHolder(t, path, m, span(0, 5)...)
	srcs := []Source{startServer(t, a, allowAll).source()}
	srcs[0].Partial = true
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	_, err := f.Fetch(ctx, m, sink, srcs)
	if !errors.Is(err, ErrNoSources) {
		t.Fatalf("err = %v, want ErrNoSources", err)
	}
	if ctx.Err() != nil {
		t.Fatal("gave up only at the test's deadline")
	}
}

// A server whose source cannot tell what it holds (no HaveSource) answers
// NOT_FOUND; one that can answers its bitfield; a bad request is refused.
func TestServeHave(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, _ := writeTestFile(t, dir, 11*testPieceSize, testPieceSize)
	holder := startServer(t, newHolder(t, path, m, 0, 9, 10), allowAll)
	plain := startServer(t, newFileSource(t, path, m), allowAll)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	tests := []struct {
		name    string
		srv     *testServer
		id      manifest.ID
		pieces  int
		want    []byte
		wantErr error
	}{
		{"holder", holder, m.ID, len(m.Pieces), []byte{0b1, 0b110}, nil},
		{"holder, other version", holder, manifest.Hash(nil), len(m.Pieces), nil, ErrNotFound},
		{"holder, wrong count", holder, m.ID, 3, nil, ErrNotFound},
		{"holder, no pieces", holder, m.ID, 0, nil, ErrBadRequest},
		{"no HaveSource", plain, m.ID, len(m.Pieces), nil, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := f.pool.get(ctx, tc.srv.source(), 0, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := requestHave(ctx, conn, "", tc.id, tc.pieces, 0)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("requestHave = %08b, %v; want %08b", got, err, tc.want)
			}
		})
	}
}

// FuzzReadHave: the answer to a have request as the fetcher reads it. No
// input may crash it; a bitfield it accepts has exactly the length of the
// piece count and no bit past it.
func FuzzReadHave(f *testing.F) {
	ok := func(bits ...byte) []byte {
		b := frame(f, &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: uint32(len(bits))})
		return append(b, bits...)
	}
	f.Add(uint32(11), ok(0b1, 0b110))
	f.Add(uint32(11), ok(0xff, 0xff))
	f.Add(uint32(8), ok(0xff, 0x01))
	f.Add(uint32(3), frame(f, &peerpb.Response{Status: peerpb.Status_STATUS_NOT_FOUND, Message: "no"}))
	f.Add(uint32(1), header(MaxResponseFrame+1))
	f.Fuzz(func(t *testing.T, pieces uint32, in []byte) {
		n := int(pieces%manifest.MaxPieces) + 1
		bits, err := readHave(bytes.NewReader(in), n)
		if err != nil {
			return
		}
		if len(bits) != bitfieldLen(n) {
			t.Fatalf("bitfield of %d bytes for %d pieces", len(bits), n)
		}
		for i := n; i < len(bits)*8; i++ {
			if hasBit(bits, i) {
				t.Fatalf("bit %d set past %d pieces", i, n)
			}
		}
	})
}

// The scheduler's swarming rules, item by item: a holder gets only what it
// holds, an owner gets the pieces the fewest holders have (this device's
// stripe first), and an owner's window is capped once a holder has pieces.
func TestSchedulerRarestFirst(t *testing.T) {
	ctx := testCtx(t)
	items := testItems(8)
	srcs := testSources(2) // 0: owner, 1: holder
	srcs[1].Partial = true
	s := newScheduler(items, srcs, 2)
	s.setSelf(srcs[0].ID) // any ID: sorts before the holder's
	// Before any have answer the holder is given nothing.
	holderCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if a := s.next(holderCtx, 1, idle); a != nil {
		t.Fatalf("holder given item %d before saying what it holds", a.it.index)
	}
	cancel()
	// The holder has items 0-5: the owner gets 6 or 7 (nobody has them;
	// with two downloaders this one's stripe is the even indexes: 6).
	s.setHave(1, []byte{0b0011_1111})
	a := s.next(ctx, 0, idle)
	if a == nil || a.it.index != 6 {
		t.Fatalf("owner given %v, want item 6 (no holder, own stripe)", a)
	}
	b := s.next(ctx, 0, func() int { return 1 })
	if b == nil || b.it.index != 7 {
		t.Fatalf("owner given %v, want item 7 (no holder)", b)
	}
	// Window of 2 in flight: nothing more for the owner.
	full, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if c := s.next(full, 0, func() int { return swarmOwnerWindow }); c != nil {
		t.Fatalf("owner with a full swarm window given item %d", c.it.index)
	}
	for range 6 {
		h := s.next(ctx, 1, idle)
		if h == nil || h.it.index > 5 {
			t.Fatalf("holder given %v, want one of the items it holds", h)
		}
	}
}

// liarSource says it holds every piece and has none.
type liarSource struct{ m *manifest.Manifest }

func (l liarSource) ReadPiece(manifest.ID, []byte) ([]byte, error) { return nil, errNoPiece }

func (l liarSource) Held(id manifest.ID, pieces int) ([]byte, bool) {
	bits := make([]byte, bitfieldLen(pieces))
	for i := range bits {
		bits[i] = 0xff
	}
	return bits, true
}

// A holder whose bitfield claims pieces it then answers NOT_FOUND for is
// not asked for those pieces again; the owner supplies them.
func TestFetchHolderClaimingTooMuch(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	m, path, data := writeTestFile(t, dir, 24*testPieceSize, testPieceSize)
	srcs := []Source{
		startServer(t, newFileSource(t, path, m), allowAll).source(),
		startServer(t, liarSource{m}, allowAll).source(),
	}
	srcs[1].Partial = true
	sink := newFileSink(t, t.TempDir(), m)
	f := newFetcher(t, newIdentity(t), FetchOptions{})
	st, err := f.Fetch(ctx, m, sink, srcs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(sink.content(t), data) {
		t.Fatal("fetched file differs")
	}
	if st.Sources[1].Pieces != 0 || st.Sources[0].Pieces != st.Pieces {
		t.Fatalf("stats %+v", st)
	}
}
