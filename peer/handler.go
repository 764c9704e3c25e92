package peer

import (
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// handler receives the tracker client's callbacks (tracker.Handler). They
// run on the client's receive goroutine, so they only record and kick: the
// work happens in the scan and pull loops.
type handler struct{ d *Daemon }

func (h handler) Registered(info tracker.RegisterInfo) {
	d := h.d
	d.mu.Lock()
	changed := d.pieceSize != info.PieceSize
	d.pieceSize = info.PieceSize
	d.setPeersLocked(info.Peers)
	d.mu.Unlock()
	mem := index.Membership{Addr: d.trackerAddr, Tracker: d.trackerID, PieceSize: info.PieceSize}
	if old, ok, _ := d.idx.Membership(); !ok || changed || old != mem {
		if err := d.idx.Update(index.Batch{Membership: &mem}); err != nil {
			d.log.Error("remember tracker", "err", err)
		}
	}
	d.log.Info("registered with tracker", "peers", len(info.Peers), "piece_size", info.PieceSize,
		"tracker_seq", info.Seq, "our_seq", d.idx.Seq(), "new_member", info.NewMember)
	kick(d.scanKick)
	kick(d.pullKick)
}

// Updates stores the entries as wants. A failed index write (disk full)
// is not dropped: the entries are held in memory and stored with the next
// batch or the pull loop's retry, and the index's Seq does not move past
// them meanwhile (indexwrite.go).
func (h handler) Updates(entries []tracker.Entry) {
	d := h.d
	if err := d.storeUpdates(entries); err != nil {
		d.log.Error("tracker updates not stored: held in memory and retried", "entries", len(entries),
			"held", d.heldCount(), "err", err)
		return
	}
	d.log.Debug("tracker updates", "entries", len(entries), "seq", d.idx.Seq())
}

func (h handler) PeersChanged(peers []tracker.PeerInfo) {
	d := h.d
	d.mu.Lock()
	d.setPeersLocked(peers)
	d.mu.Unlock()
	d.log.Debug("peers changed", "peers", len(peers))
	kick(d.pullKick)
}

func (d *Daemon) setPeersLocked(peers []tracker.PeerInfo) {
	d.peers = make(map[identity.DeviceID]string, len(peers))
	for _, p := range peers {
		d.peers[p.ID] = p.Addr
	}
}
