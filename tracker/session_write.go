package tracker

import (
	"context"
	"time"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// writeLoop owns the stream's writes: results, peer lists, pushed changes
// and finally an ERROR. It returns when ctx ends or a write fails.
func (ss *session) writeLoop(ctx context.Context) {
	defer close(ss.done)
	ss.wake() // replay changes since the peer's last sequence
	for {
		select {
		case <-ctx.Done():
			return
		case <-ss.notify:
		}
		if err := ss.flush(ctx); err != nil {
			return
		}
	}
}

// flush writes everything pending; it returns an error when the session must end.
func (ss *session) flush(ctx context.Context) error {
	for {
		ss.mu.Lock()
		out, dirty, failure := ss.out, ss.peersDirty, ss.failure
		ss.out, ss.peersDirty = nil, false
		ss.mu.Unlock()
		for _, m := range out {
			if err := ss.write(m); err != nil {
				return err
			}
		}
		if failure != nil {
			refuseStream(ss.stream, failure)
			return failure
		}
		if dirty {
			ss.srv.mu.Lock()
			peers := ss.srv.peerList(ss.folder, ss.dev)
			ss.srv.mu.Unlock()
			pm := &trackerpb.Peers{}
			for _, p := range peers {
				pm.Peers = append(pm.Peers, peerToPB(p))
			}
			if err := ss.write(&trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Peers{Peers: pm}}); err != nil {
				return err
			}
		}
		if ss.held.Load() || ss.sent >= ss.srv.store.current() {
			if len(out) == 0 && !dirty {
				return nil
			}
			continue
		}
		start := time.Now()
		entries, next, err := ss.srv.store.since(ss.folder, ss.sent, maxPushEntries, maxPushBytes)
		if err != nil {
			ss.srv.log.Error("read changes", "err", err)
			ss.fail(&remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, "tracker could not read its state"})
			continue
		}
		if next == ss.sent {
			return nil // nothing to scan (cannot happen: every seq has a log record)
		}
		ss.sent = next
		if len(entries) > 0 {
			ss.stream.SetWriteDeadline(time.Now().Add(ss.srv.cfg.PeerTimeout))
			if err := wire.WriteBytes(ss.stream, encodeUpdates(entries)); err != nil {
				return err
			}
			ss.srv.metrics.pushed(start)
		}
	}
}

func (ss *session) write(m *trackerpb.TrackerMsg) error {
	ss.stream.SetWriteDeadline(time.Now().Add(ss.srv.cfg.PeerTimeout))
	return wire.Write(ss.stream, m)
}
