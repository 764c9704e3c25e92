package tracker

import (
	"fmt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// errEpochEnded closes the sessions of an epoch that ended while the
// tracker ran (its state went back): their peers register again and
// re-announce.
var errEpochEnded = &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE,
	"the tracker's state went back in time (new epoch): register again and re-announce"}

// resumeOrReannounce decides, at registration, whether ss resumes from the
// peer's last sequence number or re-announces first (see Epoch), and starts
// a new epoch if the peer proves the state went back.
func (s *Server) resumeOrReannounce(ss *session, reg *trackerpb.Register) error {
	peerEpoch, err := epochFromBytes(reg.Epoch)
	if err != nil {
		return err
	}
	mode, why, err := s.store.classify(peerEpoch, reg.LastSeq, reg.HeardSeq)
	if err != nil {
		return err
	}
	if mode == modeRollback {
		if err := s.newEpoch(ss, why); err != nil {
			return err
		}
	}
	ss.epoch = s.store.currentEpoch()
	if mode == modeResume {
		return nil
	}
	ss.sent = 0 // after the re-announce: everything
	ss.held.Store(true)
	s.log.Info("peer re-announces its files", "device", ss.dev.Short(), "folder", ss.folder, "why", why,
		"peer_epoch", peerEpoch, "peer_seq", reg.LastSeq, "peer_heard", reg.HeardSeq, "epoch", ss.epoch)
	return nil
}

// newEpoch starts a new epoch because the state went back while the tracker
// ran, and closes every session of the old one.
func (s *Server) newEpoch(by *session, why string) error {
	old := s.store.currentEpoch()
	e, err := s.store.rotateEpoch()
	if err != nil {
		return err
	}
	s.log.Warn("new epoch", "epoch", e, "previous", old, "why", why, "device", by.dev.Short(), "seq", s.store.current())
	s.mu.Lock()
	var stale []*session
	for _, ss := range s.peers {
		if ss.epoch != e {
			stale = append(stale, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range stale {
		ss.fail(errEpochEnded)
	}
	return nil
}

// reannounced marks c, change i of the re-announce batch u, for the
// re-announce rules and gives it its ancestors.
func (ss *session) reannounced(c *Change, u *trackerpb.FileUpdate, i int) error {
	c.reannounce = true
	var err error
	c.Ancestors, err = idList(c.New.Path, u.Ancestors, i)
	return err
}

// idList decodes list i of lists (none: no IDs); decodePeerMsg checked
// that there is one list per change, bounded, of 32-byte IDs.
func idList(path string, lists []*trackerpb.Ancestors, i int) ([]manifest.ID, error) {
	if len(lists) == 0 {
		return nil, nil
	}
	ids := lists[i].GetFileIds()
	out := make([]manifest.ID, 0, len(ids))
	for _, b := range ids {
		id, err := manifest.IDFromBytes(b)
		if err != nil {
			return nil, fmt.Errorf("%w: file ID listed with %q: %v", ErrProtocol, path, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// reannounceDone ends the peer's re-announce: the writer starts pushing,
// from the beginning.
func (ss *session) reannounceDone() error {
	if !ss.held.Load() {
		return fmt.Errorf("%w: REANNOUNCE_DONE without a re-announce", ErrProtocol)
	}
	t := ss.re
	ss.srv.log.Info("peer re-announce done", "device", ss.dev.Short(), "folder", ss.folder,
		"accepted", t.accepted, "already_current", t.owner, "outdated", t.outdated, "conflicts", t.conflict, "rejected", t.rejected)
	ss.held.Store(false)
	ss.wake()
	return nil
}

// reannounceTally counts the outcomes of one peer's re-announce.
type reannounceTally struct {
	accepted, owner, outdated, conflict, rejected int
}

func (t *reannounceTally) count(o Outcome) {
	switch o {
	case Accepted:
		t.accepted++
	case Owner:
		t.owner++
	case Outdated:
		t.outdated++
	case Conflict:
		t.conflict++
	default:
		t.rejected++
	}
}
