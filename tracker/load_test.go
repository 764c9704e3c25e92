package tracker

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// loadManifest returns the manifest of synthetic file i: one piece whose
// hash is derived from i, so generating 100 000 of them is cheap. Files are
// 100 to a directory and numbered in path order, so a batch of consecutive
// files is what a peer's scan reports: one directory after the other.
func loadManifest(i int) manifest.Manifest {
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	pieces := []manifest.Piece{{Hash: manifest.Hash(seed[:]), Weak: uint32(i)}}
	const size = 4000
	return manifest.Manifest{
		Path: fmt.Sprintf("load/d%04d/file-%06d.dat", i/100, i), Size: size, ModTime: t0 + int64(i),
		PieceSize: manifest.DefaultPieceSize, Pieces: pieces, ID: manifest.FileID(size, manifest.DefaultPieceSize, pieces),
	}
}

// countingHandler discards pushes and remembers the highest sequence number.
type countingHandler struct {
	seq     atomic.Uint64
	entries atomic.Int64
	mu      sync.Mutex
	wake    chan struct{}
	regs    atomic.Int32
}

func newCountingHandler() *countingHandler { return &countingHandler{wake: make(chan struct{}, 1)} }

func (h *countingHandler) Registered(RegisterInfo) { h.regs.Add(1); h.signal() }
func (h *countingHandler) PeersChanged([]PeerInfo) {}
func (h *countingHandler) Updates(es []Entry) {
	h.entries.Add(int64(len(es)))
	for _, e := range es {
		if e.Seq > h.seq.Load() {
			h.seq.Store(e.Seq)
		}
	}
	h.signal()
}

func (h *countingHandler) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// waitSeq waits until the handler has seen seq (or ctx ends).
func (h *countingHandler) waitSeq(ctx context.Context, seq uint64) error {
	for h.seq.Load() < seq {
		select {
		case <-ctx.Done():
			return fmt.Errorf("saw seq %d of %d: %w", h.seq.Load(), seq, ctx.Err())
		case <-h.wake:
		}
	}
	return nil
}

// loadPeers is a set of running clients for load tests.
type loadPeers struct {
	clients  []*Client
	handlers []*countingHandler
	cancel   context.CancelFunc
	g        *errgroup.Group
}

// startLoadPeers connects n clients that join with tok.
func startLoadPeers(addr string, tok Token, n int) (*loadPeers, error) {
	ctx, cancel := context.WithCancel(context.Background())
	g := &errgroup.Group{}
	lp := &loadPeers{cancel: cancel, g: g}
	for range n {
		id, err := identity.New()
		if err != nil {
			cancel()
			return nil, err
		}
		h := newCountingHandler()
		c := NewClient(ClientConfig{Addr: addr, Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:], ListenPort: 7001, Handler: h})
		lp.clients = append(lp.clients, c)
		lp.handlers = append(lp.handlers, h)
		g.Go(func() error { return c.Run(ctx) })
	}
	return lp, nil
}

func (lp *loadPeers) stop() error {
	lp.cancel()
	return lp.g.Wait()
}

// report makes every peer report files [0, files) in batches of MaxBatch,
// all peers concurrently; it returns the highest sequence number assigned.
func (lp *loadPeers) report(ctx context.Context, files int) (uint64, error) {
	var top atomic.Uint64
	g, ctx := errgroup.WithContext(ctx)
	for _, c := range lp.clients {
		g.Go(func() error {
			batch := make([]Change, 0, MaxBatch)
			for i := 0; i < files; i += MaxBatch {
				batch = batch[:0]
				for j := i; j < min(i+MaxBatch, files); j++ {
					batch = append(batch, Change{New: loadManifest(j)})
				}
				rs, err := c.Update(ctx, batch)
				if err != nil {
					return err
				}
				for _, r := range rs {
					if r.Outcome != Accepted && r.Outcome != Owner {
						return fmt.Errorf("%s: %v %v", r.Path, r.Outcome, r.Err)
					}
					for {
						cur := top.Load()
						if r.Seq <= cur || top.CompareAndSwap(cur, r.Seq) {
							break
						}
					}
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return top.Load(), err
}

// drain waits until every peer has received everything up to seq.
func (lp *loadPeers) drain(ctx context.Context, seq uint64) error {
	for _, h := range lp.handlers {
		if err := h.waitSeq(ctx, seq); err != nil {
			return err
		}
	}
	return nil
}
