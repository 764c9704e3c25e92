package tracker

import (
	"fmt"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// readLoop reads frames until the stream ends or breaks the protocol.
func (ss *session) readLoop() error {
	for {
		if err := ss.readOne(); err != nil {
			return err
		}
	}
}

// readOne reads and handles one frame, holding its bytes in the frame
// budgets (limits.go) until it is handled.
func (ss *session) readOne() error {
	body, release, err := ss.srv.lim.readFrame(ss.stream, ss.frames, MaxMessageSize)
	if err != nil {
		return err
	}
	defer release()
	ss.lastSeen.Store(time.Now().UnixNano())
	m, err := decodePeerMsg(body)
	if err != nil {
		return err
	}
	switch x := m.Msg.(type) {
	case *trackerpb.PeerMsg_KeepAlive:
	case *trackerpb.PeerMsg_FileUpdate:
		return ss.fileUpdate(x.FileUpdate)
	case *trackerpb.PeerMsg_ReannounceDone:
		return ss.reannounceDone()
	default:
		return fmt.Errorf("%w: unexpected %T after REGISTER", ErrProtocol, x)
	}
	return nil
}

// fileUpdate applies one batch durably, queues its RESULTS and wakes every
// session of the folder to push the changes.
func (ss *session) fileUpdate(u *trackerpb.FileUpdate) error {
	if u.Reannounce && !ss.held.Load() {
		return fmt.Errorf("%w: re-announce outside a re-announce", ErrProtocol)
	}
	res := make([]*trackerpb.Result, len(u.Changes))
	valid := make([]Change, 0, len(u.Changes))
	idx := make([]int, 0, len(u.Changes))
	for i, p := range u.Changes {
		m, err := manifest.FromProto(p)
		if err != nil {
			res[i] = &trackerpb.Result{Outcome: trackerpb.Outcome_OUTCOME_REJECTED, Path: p.GetPath(), Error: "invalid manifest: " + err.Error()}
			continue
		}
		// decodePeerMsg checked: no flags, or one per change
		valid = append(valid, Change{New: m, OwnershipOnly: len(u.OwnershipOnly) > 0 && u.OwnershipOnly[i]})
		if u.Reannounce {
			if err := ss.reannounced(&valid[len(valid)-1], u, i); err != nil {
				return err
			}
		} else if valid[len(valid)-1].Unacked, err = idList(m.Path, u.Unacked, i); err != nil {
			return err
		}
		idx = append(idx, i)
	}
	if len(valid) > 0 {
		rs, err := ss.srv.store.apply(ss.folder, ss.num, valid)
		if err != nil {
			ss.srv.log.Error("commit failed", "err", err)
			return &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, "tracker could not store the changes; retry later"}
		}
		for j, r := range rs {
			res[idx[j]] = resultToPB(r)
			if u.Reannounce {
				ss.re.count(r.Outcome)
			}
		}
	}
	ss.queue(&trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Results{Results: &trackerpb.Results{RequestId: u.RequestId, Results: res}}})
	if len(valid) > 0 {
		ss.srv.changed(ss.folder)
	}
	return nil
}

func resultToPB(r Result) *trackerpb.Result {
	p := &trackerpb.Result{Outcome: trackerpb.Outcome(r.Outcome), Seq: r.Seq, Path: r.Path}
	if !r.CurrentID.IsZero() {
		p.CurrentId = r.CurrentID[:]
	}
	if r.Err != nil {
		p.Error = r.Err.Error()
	}
	return p
}
