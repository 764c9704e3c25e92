package peer

import (
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
	if len(m.Pieces) < swarmMinPieces {
		return srcs
	}
	others := false
	for _, id := range owners {
		others = others || id != p.self
	}
	if !others {
		return srcs
	}
	return append(srcs, p.state.holders(owners, p.self)...)
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
