package peer

import (
	"fmt"
	"log/slog"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// handler is the folder's side of the tracker client (tracker.Handler and
// the Registering hook). Registered, Updates and PeersChanged run on the
// client's dispatcher goroutine, one at a time and in the order the tracker
// sent them; registering runs on the client's connection goroutine, before
// the registration's Registered. They only record and kick: the work
// happens in the scan and pull loops.
type handler struct {
	log    *slog.Logger
	idx    *index.Index
	state  *syncState
	writes *heldWrites
	rs     *resync
	guard  *folderGuard // told the folder is shared (registered) again

	// The tracker joined, remembered in the index at each registration:
	// trackerAddr is the address dialled (trackerResolver.current).
	trackerAddr func() string
	trackerID   identity.DeviceID

	scanKick, pullKick chan struct{}

	// closeLeft closes the piece server's connections from devices that
	// are no longer peers of any folder (transfer.Server.CloseNonMembers),
	// after each new peer list; nil in tests of single parts.
	closeLeft func() int
}

func (h handler) Registered(info tracker.RegisterInfo) {
	changed := h.state.setRegistration(info.PieceSize, info.Peers)
	h.peersLeft()
	mem := index.Membership{Tracker: h.trackerID, PieceSize: info.PieceSize}
	if h.trackerAddr != nil {
		mem.Addr = h.trackerAddr()
	}
	if old, ok, _ := h.idx.Membership(); !ok || changed || old != mem {
		if err := h.idx.Update(index.Batch{Membership: &mem}); err != nil {
			h.log.Error("remember tracker", "err", err)
		}
	}
	h.log.Info("registered with tracker", "tracker", mem.Addr, "peers", len(info.Peers), "piece_size", info.PieceSize,
		"tracker_seq", info.Seq, "our_seq", h.idx.Seq(), "new_member", info.NewMember, "reannounce", info.Reannounce)
	h.rs.registered(info.Conn)
	h.guard.refused("")
	kick(h.scanKick)
	kick(h.pullKick)
}

// Updates stores the entries as wants. A failed index write (disk full)
// is not dropped: the entries are held in memory and stored with the next
// batch or the pull loop's retry, and the index's Seq does not move past
// them meanwhile (indexwrite.go).
func (h handler) Updates(entries []tracker.Entry) {
	if err := h.writes.storeUpdates(entries); err != nil {
		h.log.Error("tracker updates not stored: held in memory and retried", "entries", len(entries),
			"held", h.writes.count(), "err", err)
		return
	}
	h.log.Debug("tracker updates", "entries", len(entries), "seq", h.idx.Seq())
}

func (h handler) PeersChanged(peers []tracker.PeerInfo) {
	h.state.setPeers(peers)
	h.log.Debug("peers changed", "peers", len(peers))
	h.peersLeft()
	kick(h.pullKick)
}

// peersLeft stops serving devices that left every peer list: a member the
// tracker removed stops being served at once (docs/ACCESS.md).
func (h handler) peersLeft() {
	if h.closeLeft != nil {
		if n := h.closeLeft(); n > 0 {
			h.log.Info("closed connections of devices that are no longer peers", "connections", n)
		}
	}
}

// registering is the tracker client's Registering hook: it runs before the
// registration delivers anything. A resume records the tracker's epoch (the
// sequence numbers go on). A re-announce first forgets the epoch and every
// stored want, durably (a crash from here on re-announces again, and nothing
// the tracker sent before is applied), then stops pulling and has the scan
// loop re-announce (epoch.go).
func (h handler) registering(info tracker.RegisterInfo) error {
	if !info.Reannounce {
		h.rs.resume()
		kick(h.pullKick)
		if e := [16]byte(info.Epoch); h.idx.Epoch() != e {
			return h.idx.Update(index.Batch{Epoch: &e})
		}
		return nil
	}
	if err := h.idx.Update(index.Batch{Epoch: &[16]byte{}, ClearWants: true}); err != nil {
		return fmt.Errorf("forget the previous epoch: %w", err)
	}
	h.rs.startReannounce(info)
	h.state.takeUnannounced() // in the index: the re-announce covers them
	kick(h.scanKick)
	return nil
}
