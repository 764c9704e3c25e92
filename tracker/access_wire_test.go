package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/admin"
)

// TestLimitedDeviceOnTheWire is the wire half of the acceptance "no name or
// piece crosses folders", at the tracker/transfer level: a tracker and three
// devices over real QUIC. F is a member of every folder and serves work's
// pieces to the peers the tracker lists for work (as a peer daemon does);
// W is a member of every folder on work; L joined with a token for photos.
// L is refused work, learns only photos' entries, owners and peers, and F's
// piece server refuses it a piece of work's file that W gets.
func TestLimitedDeviceOnTheWire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srvDone := make(chan error, 1)
	sctx, stopSrv := context.WithCancel(context.Background())
	go func() { srvDone <- srv.Run(sctx) }()
	defer func() {
		stopSrv()
		if err := <-srvDone; err != nil {
			t.Error(err)
		}
	}()
	addr, own := srv.Addr().String(), srv.Token()
	at, err := admin.NewClient(srv.AdminSocket()).IssueToken(ctx, []string{"photos"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	limTok, err := tracker.ParseToken(at.Token)
	if err != nil {
		t.Fatal(err)
	}
	f, w, l := newID(t), newID(t), newID(t)

	// F serves pieces of work to the live peers of its work session.
	plan := []byte("work only: the plan nobody in photos may read")
	planM := oneFile("plan.txt", plan)
	photo := oneFile("holiday.jpg", []byte("photos: a holiday"))
	fWork := &watcher{}
	ln, err := transport.Listen("127.0.0.1:0", f, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // after the piece server stopped (deferred below)
	pieces := transfer.NewServer(memSource{planM.Pieces[0].Hash: plan}, fWork.isPeer, slog.New(slog.DiscardHandler))
	port := ln.Addr().(*net.UDPAddr).Port
	var g sync.WaitGroup
	g.Go(func() { _ = pieces.Serve(ctx, ln) })
	defer g.Wait()
	defer cancel()

	fw := runClient(ctx, t, &g, addr, own, f, "work", port, fWork)
	fp := runClient(ctx, t, &g, addr, own, f, "photos", port, &watcher{})
	update(ctx, t, fw, planM)
	update(ctx, t, fp, photo)
	wWork := &watcher{}
	runClient(ctx, t, &g, addr, own, w, "work", 0, wWork)
	lPhotos := &watcher{}
	runClient(ctx, t, &g, addr, limTok, l, "photos", 0, lPhotos)

	// L asking for work is refused, and its client of work stops.
	refused := tracker.NewClient(tracker.ClientConfig{Addr: addr, Identity: l, Tracker: limTok.Tracker, Folder: "work", Handler: &watcher{},
		MinBackoff: 10 * time.Millisecond})
	if err := refused.Run(ctx); !errors.Is(err, tracker.ErrFolderNotShared) {
		t.Fatalf("limited device's client of work: %v, want ErrFolderNotShared", err)
	}

	waitFor(ctx, t, "W sees F on work and plan.txt", func() bool { return wWork.hasPeer(f.ID) && wWork.has("plan.txt") })
	waitFor(ctx, t, "L sees holiday.jpg from F", func() bool { return lPhotos.has("holiday.jpg") && lPhotos.hasPeer(f.ID) })
	waitFor(ctx, t, "F's work session sees W", func() bool { return fWork.hasPeer(w.ID) })
	// a later work change is pushed to W but not to L
	late := oneFile("later.txt", []byte("work, later"))
	update(ctx, t, fw, late)
	update(ctx, t, fp, oneFile("later.jpg", []byte("photos, later")))
	waitFor(ctx, t, "W sees later.txt", func() bool { return wWork.has("later.txt") })
	waitFor(ctx, t, "L sees later.jpg", func() bool { return lPhotos.has("later.jpg") })
	lPhotos.mu.Lock()
	for _, e := range lPhotos.entries {
		if e.Manifest.Path == "plan.txt" || e.Manifest.Path == "later.txt" || e.Manifest.ID == planM.ID {
			t.Errorf("L received work's entry %q", e.Manifest.Path)
		}
		if slices.Contains(e.Owners, w.ID) {
			t.Errorf("L learned W, a device of work only, as an owner of %q", e.Manifest.Path)
		}
	}
	if slices.Contains(lPhotos.peers, w.ID) {
		t.Error("L's peer list holds W, a device of work only")
	}
	lPhotos.mu.Unlock()

	fetch := func(id *identity.Identity) (transfer.FetchStats, error) {
		fe := transfer.NewFetcher(id, transfer.FetchOptions{}, slog.New(slog.DiscardHandler))
		defer fe.Close()
		return fe.Fetch(ctx, &planM, &memSink{n: len(planM.Pieces)}, []transfer.Source{{ID: f.ID, Addr: ln.Addr().String()}})
	}
	if _, err := fetch(w); err != nil {
		t.Fatalf("W, a member of work, fetching plan.txt's piece: %v", err)
	}
	st, err := fetch(l)
	if err == nil || !errors.Is(st.Sources[0].Dropped, transfer.ErrForbidden) {
		t.Fatalf("L fetching work's piece: %v (source dropped for %v), want ErrForbidden", err, st.Sources[0].Dropped)
	}
}

func newID(t *testing.T) *identity.Identity {
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func oneFile(path string, data []byte) manifest.Manifest {
	const ps = manifest.MinPieceSize
	pieces := []manifest.Piece{{Hash: manifest.Hash(data), Weak: manifest.WeakSum(data)}}
	return manifest.Manifest{Path: path, Size: int64(len(data)), ModTime: 1, PieceSize: ps, Pieces: pieces,
		ID: manifest.FileID(int64(len(data)), ps, pieces)}
}

// runClient runs a tracker client until ctx ends (owned by g) and waits
// for its registration.
func runClient(ctx context.Context, t *testing.T, g *sync.WaitGroup, addr string, tok tracker.Token, id *identity.Identity, folder string, port int, h *watcher) *tracker.Client {
	t.Helper()
	c := tracker.NewClient(tracker.ClientConfig{Addr: addr, Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:], Folder: folder,
		ListenPort: port, Handler: h, MinBackoff: 10 * time.Millisecond})
	g.Go(func() {
		if err := c.Run(ctx); err != nil {
			t.Errorf("client %s of %q: %v", id.ID.Short(), folder, err)
		}
	})
	waitFor(ctx, t, fmt.Sprintf("%s registered on %q", id.ID.Short(), folder), func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.registered
	})
	return c
}

func update(ctx context.Context, t *testing.T, c *tracker.Client, m manifest.Manifest) {
	t.Helper()
	rs, err := c.Update(ctx, []tracker.Change{{New: m}})
	if err != nil || rs[0].Outcome != tracker.Accepted {
		t.Fatalf("update %s: %v %v", m.Path, rs, err)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// watcher is a tracker.Handler that keeps what it was told.
type watcher struct {
	mu         sync.Mutex
	registered bool
	peers      []identity.DeviceID
	entries    []tracker.Entry
}

func (h *watcher) Registered(i tracker.RegisterInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.registered = true
	h.setPeers(i.Peers)
}

func (h *watcher) setPeers(ps []tracker.PeerInfo) {
	h.peers = h.peers[:0]
	for _, p := range ps {
		h.peers = append(h.peers, p.ID)
	}
}

func (h *watcher) PeersChanged(ps []tracker.PeerInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setPeers(ps)
}

func (h *watcher) Updates(es []tracker.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, es...)
}

func (h *watcher) isPeer(id identity.DeviceID) bool { return h.hasPeer(id) }

func (h *watcher) hasPeer(id identity.DeviceID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.peers, id)
}

func (h *watcher) has(path string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.entries, func(e tracker.Entry) bool { return e.Manifest.Path == path })
}

// memSource serves pieces from memory.
type memSource map[manifest.ID][]byte

func (s memSource) ReadPiece(h manifest.ID, _ []byte) ([]byte, error) {
	if b, ok := s[h]; ok {
		return b, nil
	}
	return nil, errors.New("no such piece")
}

// memSink takes every piece.
type memSink struct {
	mu   sync.Mutex
	n    int
	done map[int]bool
}

func (s *memSink) Missing() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range s.n {
		if !s.done[i] {
			out = append(out, i)
		}
	}
	return out
}

func (s *memSink) WritePiece(i int, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[int]bool{}
	}
	s.done[i] = true
	return nil
}
