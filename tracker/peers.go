package tracker

import (
	"bytes"
	"slices"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// addPeer records ss as live, replacing an older session of the same device
// and folder, and tells the folder's other peers.
func (s *Server) addPeer(ss *session) {
	k := peerKey{ss.folder, ss.dev}
	s.mu.Lock()
	old := s.peers[k]
	s.peers[k] = ss
	s.mu.Unlock()
	if old != nil {
		old.fail(&remoteError{trackerpb.ErrorCode_ERROR_REPLACED, "replaced by a newer connection of the same device"})
	}
	if ss.epoch != s.store.currentEpoch() {
		ss.fail(errEpochEnded) // a new epoch began while it registered (session_epoch.go)
	}
	s.enforceGrant(ss) // its grant may have been narrowed while it registered (access_admit.go)
	// The list ss got in REGISTERED was built before ss was live, so a peer
	// registering at the same moment may be missing from it; send ss the
	// list as it is now, after the insertion.
	ss.markPeers()
	s.peersChanged(ss.folder, ss.dev)
}

// removePeer forgets ss (if it is still the live session of its device) and
// tells the folder's other peers.
func (s *Server) removePeer(ss *session) {
	k := peerKey{ss.folder, ss.dev}
	s.mu.Lock()
	removed := s.peers[k] == ss
	if removed {
		delete(s.peers, k)
	}
	s.mu.Unlock()
	if removed {
		s.peersChanged(ss.folder, ss.dev)
	}
}

// peersChanged wakes every session of folder but except's to send PEERS.
func (s *Server) peersChanged(folder string, except identity.DeviceID) {
	s.mu.Lock()
	var targets []*session
	for k, ss := range s.peers {
		if k.folder == folder && k.dev != except {
			targets = append(targets, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range targets {
		ss.markPeers()
	}
}

// changed wakes every session of folder to push new changes.
func (s *Server) changed(folder string) {
	s.mu.Lock()
	var targets []*session
	for k, ss := range s.peers {
		if k.folder == folder {
			targets = append(targets, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range targets {
		ss.wake()
	}
}

// peerList returns the live peers of folder except dev, sorted by device ID.
// The caller holds s.mu.
func (s *Server) peerList(folder string, except identity.DeviceID) []PeerInfo {
	var out []PeerInfo
	for k, ss := range s.peers {
		if k.folder == folder && k.dev != except {
			out = append(out, PeerInfo{ID: k.dev, Addr: ss.addr})
		}
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}
