package transfer

import (
	"sync/atomic"
	"time"
)

// PieceObserver is told about every piece a Fetcher brought in: delta is
// true for a piece rebuilt from a delta (FetchDelta), false for a whole
// piece (Fetch); latency runs from sending the request to the verified
// arrival of the piece, n is its length. Only pieces that are used are
// reported (not an endgame duplicate that lost, nor a bad piece).
// ObservePiece is called from many goroutines at once and must not block.
// (An interface, not a func, so that FetchOptions stays comparable.)
type PieceObserver interface {
	ObservePiece(delta bool, latency time.Duration, n int)
}

// ServedObserver is told about every response a Server sent in full: delta
// is true for a delta, false for a whole piece; n is the bytes sent. It is
// called from many goroutines at once and must not block.
type ServedObserver func(delta bool, n int)

// WithServed calls fn for every piece or delta the server sent in full.
func WithServed(fn ServedObserver) ServerOption {
	return func(c *serverConfig) { c.served = fn }
}

// fetcherLoad counts the work a Fetcher has in hand (see Fetcher.Load).
type fetcherLoad struct {
	files    atomic.Int64 // Fetch and FetchDelta calls running
	requests atomic.Int64 // piece requests sent and not yet answered
}

// Load is the work a Fetcher has in hand at one moment.
type Load struct {
	Files    int // Fetch and FetchDelta calls running
	Requests int // piece requests in flight over all of them
	Sources  int // source devices with at least one open connection
}

// Load returns the fetcher's current work and connections.
func (f *Fetcher) Load() Load {
	return Load{
		Files:    int(f.load.files.Load()),
		Requests: int(f.load.requests.Load()),
		Sources:  f.pool.devices(),
	}
}

// Remotes returns how many devices have a connection open to the server.
func (s *Server) Remotes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.remotes)
}

// devices returns how many devices the pool holds a live connection to.
func (p *connPool) devices() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := make(map[poolKey]bool)
	for k, e := range p.conns {
		select {
		case <-e.ready:
		default:
			continue // still dialling
		}
		if e.err == nil && e.conn != nil && e.conn.Context().Err() == nil {
			seen[poolKey{id: k.id}] = true
		}
	}
	return len(seen)
}

// observe reports a used piece to the fetcher's observer, if any.
func (f *Fetcher) observe(delta bool, began time.Time, n int) {
	if f.opt.Observe != nil {
		f.opt.Observe.ObservePiece(delta, time.Since(began), n)
	}
}

// served reports a sent response to the server's observer, if any.
func (s *Server) served(delta bool, n int) {
	if s.cfg.served != nil {
		s.cfg.served(delta, n)
	}
}
