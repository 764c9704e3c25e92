package peer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
)

// swarmMinPieces is the fewest pieces a version must have for its
// download to ask the other peers of the folder what they hold of it
// (swarming, docs/PROTOCOL.md "Swarming"): a smaller file is over before
// holders could trade, and each fetch would cost a have request per peer.
const swarmMinPieces = 8

// fetchSources returns where the pieces of m come from: its live owners
// (this device excluded), then, for a version of swarmMinPieces or more,
// every other live peer of the folder as a partial holder (one that is
// downloading m too serves the pieces it has verified; the others answer
// that they hold none). A version whose only owner is this device gets no
// holders: nobody else can have its pieces (see isPhantom).
func (p *planner) fetchSources(m *manifest.Manifest, owners []identity.DeviceID) []transfer.Source {
	srcs := p.sources(owners)
	if !p.swarmable(m, owners) {
		return srcs
	}
	return append(srcs, p.state.holders(owners, p.self)...)
}

// swarmable reports whether the download of m asks partial holders: it
// has swarmMinPieces pieces or more, and an owner other than this device.
func (p *planner) swarmable(m *manifest.Manifest, owners []identity.DeviceID) bool {
	if p.noSwarm || len(m.Pieces) < swarmMinPieces {
		return false
	}
	for _, id := range owners {
		if id != p.self {
			return true
		}
	}
	return false
}

// holders returns the live peers that are not among owners, self
// excluded, as partial holders.
func (s *syncState) holders(owners []identity.DeviceID, self identity.DeviceID) []transfer.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []transfer.Source
	for id, addr := range s.peers {
		if id == self || addr == "" || slices.Contains(owners, id) {
			continue
		}
		out = append(out, transfer.Source{ID: id, Addr: addr, Folder: s.folder, Partial: true})
	}
	return out
}

// Held lets the piece server answer have requests (transfer.HaveSource)
// from the folder's chunk store: the pieces its partial download of a
// version holds.
func (c countingSource) Held(id manifest.ID, pieces int) ([]byte, bool) {
	if hs, ok := c.src.(transfer.HaveSource); ok {
		return hs.Held(id, pieces)
	}
	return nil, false
}

// errPeersChanged ends a swarming fetch whose folder's live peers changed.
var errPeersChanged = errors.New("peer: the live peers changed")

// swarmFetcher is the planner's whole-piece fetcher (plan.WholeFetcher):
// a fetch with partial holders among its sources starts again, with the
// pieces it has, whenever the folder's live peers change, so that a peer
// that joins while it runs (new devices joining together) becomes one of
// its holders; the owners stay those it was given.
type swarmFetcher struct{ p *planner }

func (s swarmFetcher) Fetch(ctx context.Context, m *manifest.Manifest, sink transfer.Sink, srcs []transfer.Source) (transfer.FetchStats, error) {
	p := s.p
	if !slices.ContainsFunc(srcs, func(s transfer.Source) bool { return s.Partial }) {
		return p.fetcher.Fetch(ctx, m, sink, srcs)
	}
	var total transfer.FetchStats
	for {
		changed := p.state.peersChangedChan()
		fctx, cancel := context.WithCancelCause(ctx)
		go func() {
			select {
			case <-changed:
				cancel(errPeersChanged)
			case <-fctx.Done():
			}
		}()
		st, err := p.fetcher.Fetch(fctx, m, sink, srcs)
		restart := err != nil && ctx.Err() == nil && errors.Is(context.Cause(fctx), errPeersChanged)
		cancel(nil)
		total.Pieces += st.Pieces
		total.Written += st.Written
		total.Bytes += st.Bytes
		total.BadPieces += st.BadPieces
		total.Duplicates += st.Duplicates
		total.Duration += st.Duration
		total.Sources = st.Sources
		if !restart {
			return total, err
		}
		p.log.Debug("live peers changed: fetching again with them", "path", m.Path)
		var owners []identity.DeviceID
		for _, s := range srcs {
			if !s.Partial {
				owners = append(owners, s.ID)
			}
		}
		srcs = append(p.sources(owners), p.state.holders(owners, p.self)...)
		if len(srcs) == 0 {
			return total, fmt.Errorf("fetch %s: %w", m.Path, transfer.ErrNoSources)
		}
	}
}

// peersChangedChan returns a channel closed at the next change of the
// live peers.
func (s *syncState) peersChangedChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peersChanged == nil {
		s.peersChanged = make(chan struct{})
	}
	return s.peersChanged
}

// notifyPeersLocked wakes the waiters of peersChangedChan. Called with mu
// held when the live peers change.
func (s *syncState) notifyPeersLocked() {
	if s.peersChanged != nil {
		close(s.peersChanged)
		s.peersChanged = nil
	}
}
