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
		"tracker_seq", info.Seq, "our_seq", d.idx.Seq(), "new_member", info.NewMember, "reannounce", info.Reannounce)
	d.registered(info.Conn)
	kick(d.scanKick)
	kick(d.pullKick)
}

func (h handler) Updates(entries []tracker.Entry) {
	d := h.d
	var b index.Batch
	for _, e := range entries {
		b.Seq = max(b.Seq, e.Seq)
		p := e.Manifest.Path
		ie, ok := d.idx.Get(p)
		if (ok && ie.Manifest.ID == e.Manifest.ID) || d.reportingVersion(p, e.Manifest.ID) {
			// Nothing to do: we have (or are reporting) exactly this
			// version. An older want for the path is obsolete. (Being
			// listed as an owner is not enough: the tracker moves the
			// owners of a version that lost a conflict to the conflict
			// copy, which this peer still has to build.)
			b.DoneWants = append(b.DoneWants, index.Done{Path: p})
			continue
		}
		w := index.Want{Manifest: e.Manifest, Seq: e.Seq}
		for _, o := range e.Owners {
			w.Owners = append(w.Owners, o)
		}
		b.Wants = append(b.Wants, w)
	}
	if err := d.idx.Update(b); err != nil {
		d.log.Error("store tracker updates", "err", err)
		return
	}
	d.log.Debug("tracker updates", "entries", len(entries), "wants", len(b.Wants), "seq", b.Seq)
	if len(b.Wants) > 0 {
		kick(d.pullKick)
	}
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
