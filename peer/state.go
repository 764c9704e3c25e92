package peer

import (
	"log/slog"
	"strings"
	"sync"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
)

// syncState is the small state the parts of one folder share: which paths
// are being applied, which versions are being reported, what ownership is
// not announced yet, what the tracker refused, and the tracker's view of
// the folder (live peers, piece size). One mutex guards it, held only for
// map and slice work: never across I/O.
type syncState struct {
	// folder is the folder's tracker name, named by every piece request
	// to its sources (set once by newFolder).
	folder string

	mu sync.Mutex
	// applying: paths whose apply (commit or delete, then index) is under
	// way; the local diff leaves them alone, so a half-applied remote
	// version is never reported as a local change.
	applying map[string]bool
	// storing: paths whose wants the index writer is replacing
	// (heldWrites.updateBatch); no apply begins on them meanwhile.
	storing map[string]bool
	// reporting: versions sent to the tracker whose outcome is not
	// recorded yet, so their echo in Updates is not taken for work.
	reporting map[string]manifest.ID
	// unannounced: applied versions whose ownership the tracker has not
	// acknowledged yet (it was unreachable); the next flush sends them.
	unannounced []manifest.Manifest
	// rejected: local versions the tracker refused: not re-reported
	// (rejected.go).
	rejected map[string]rejection
	// clashWarned: name clashes already logged (case_twin.go).
	clashWarned map[[2]string]bool
	// peers and pieceSize are the tracker's: the live peers of the folder
	// (address by device) and its piece size (0 until registered).
	peers     map[identity.DeviceID]string
	pieceSize int64
	// live: what the folder is doing now, for Status (status_live.go).
	live folderLive
	// faults: wants whose write failed for a lasting cause (disk full,
	// permission, read-only), retried with backoff (write_faults.go).
	faults *writeFaults
	// room: the room the downloads under way still need (apply_fault.go).
	room roomBook
	// peersChanged is closed (and replaced) when the live peer list
	// changes: a swarming download starts again with the new peers
	// (swarm.go). Nil until first asked for.
	peersChanged chan struct{}
}

func newSyncState() *syncState {
	return &syncState{
		applying: make(map[string]bool), storing: make(map[string]bool),
		reporting: make(map[string]manifest.ID), rejected: make(map[string]rejection),
		clashWarned: make(map[[2]string]bool), peers: make(map[identity.DeviceID]string),
		faults: newWriteFaults(slog.New(slog.DiscardHandler), DefaultRetry, nil),
	}
}

// beginApply marks path as being applied; false if it already is, or if
// its want is being replaced (storing).
func (s *syncState) beginApply(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applying[path] || s.storing[path] {
		return false
	}
	s.applying[path] = true
	return true
}

func (s *syncState) endApply(path string) {
	s.mu.Lock()
	delete(s.applying, path)
	s.mu.Unlock()
}

func (s *syncState) isApplying(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applying[path]
}

// twinApplying reports whether another path equal to p but for case is
// being applied (see applier.caseTwinApplying).
func (s *syncState) twinApplying(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.applying {
		if q != p && strings.EqualFold(q, p) {
			return true
		}
	}
	return false
}

// claimUpdates decides, for the held tracker updates ups, which paths the
// index writer may replace the wants of now (claimed: no apply begins on
// them until unclaim) and which wait because their apply is under way
// (later).
func (s *syncState) claimUpdates(ups map[string]tracker.Entry) (claimed []string, later []tracker.Entry) {
	claimed = make([]string, 0, len(ups))
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, e := range ups {
		if s.applying[p] {
			later = append(later, e)
			continue
		}
		s.storing[p] = true
		claimed = append(claimed, p)
	}
	return claimed, later
}

// unclaim releases the paths claimUpdates claimed.
func (s *syncState) unclaim(paths []string) {
	s.mu.Lock()
	for _, p := range paths {
		delete(s.storing, p)
	}
	s.mu.Unlock()
}

// markReporting marks the versions of batch as in flight.
func (s *syncState) markReporting(batch []decide.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range batch {
		s.reporting[c.Manifest.Path] = c.Manifest.ID
	}
}

// unmarkReporting ends markReporting (a newer mark of a path stays).
func (s *syncState) unmarkReporting(batch []decide.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range batch {
		if s.reporting[c.Manifest.Path] == c.Manifest.ID {
			delete(s.reporting, c.Manifest.Path)
		}
	}
}

// reportingVersion reports whether version id of path is being reported.
func (s *syncState) reportingVersion(path string, id manifest.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.reporting[path]
	return ok && cur == id
}

// addUnannounced keeps applied versions for the next ownership
// announcement.
func (s *syncState) addUnannounced(ms ...manifest.Manifest) {
	s.mu.Lock()
	s.unannounced = append(s.unannounced, ms...)
	s.mu.Unlock()
}

// takeUnannounced returns the versions not announced yet, and forgets them.
func (s *syncState) takeUnannounced() []manifest.Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.unannounced
	s.unannounced = nil
	return out
}

// firstClash reports whether the clash of orig with disk is seen for the
// first time in this run (it is logged once).
func (s *syncState) firstClash(orig, disk string) bool {
	key := [2]string{orig, disk}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.clashWarned[key]
	s.clashWarned[key] = true
	return !seen
}

// setRegistration records the tracker's piece size and live peers at a
// registration; it reports whether the piece size changed.
func (s *syncState) setRegistration(pieceSize int64, peers []tracker.PeerInfo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.pieceSize != pieceSize
	s.pieceSize = pieceSize
	s.live.setTracker(true)
	s.setPeersLocked(peers)
	return changed
}

// setPeers records the live peer list.
func (s *syncState) setPeers(peers []tracker.PeerInfo) {
	s.mu.Lock()
	s.setPeersLocked(peers)
	s.mu.Unlock()
}

func (s *syncState) setPeersLocked(peers []tracker.PeerInfo) {
	s.peers = make(map[identity.DeviceID]string, len(peers))
	for _, p := range peers {
		s.peers[p.ID] = p.Addr
	}
	s.live.peersNow(peers)
	s.notifyPeersLocked() // swarm.go
}

// isMember is the piece server's Authorizer: a device in the live peer list.
func (s *syncState) isMember(id identity.DeviceID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.peers[id]
	return ok
}

// sources returns the live owners among owners, self excluded.
func (s *syncState) sources(owners []identity.DeviceID, self identity.DeviceID) []transfer.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []transfer.Source
	for _, id := range owners {
		if id == self {
			continue
		}
		if addr, ok := s.peers[id]; ok && addr != "" {
			out = append(out, transfer.Source{ID: id, Addr: addr, Folder: s.folder})
		}
	}
	return out
}

// currentPieceSize is the tracker's piece size; 0 before the first
// registration.
func (s *syncState) currentPieceSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pieceSize
}

// setPieceSize records the piece size remembered from the last membership.
func (s *syncState) setPieceSize(n int64) {
	s.mu.Lock()
	s.pieceSize = n
	s.mu.Unlock()
}
