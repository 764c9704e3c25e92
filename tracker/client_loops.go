package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// readLoop receives pushes (to the dispatcher) and results (to Update calls).
// Before it queues file updates it waits for room in the dispatcher's queue
// (unless a request awaits its answer), so a long catch-up is paced by the
// Handler, not held in memory.
func (c *Client) readLoop(ctx context.Context, st transport.Stream, cc *clientConn, d *dispatcher) error {
	for {
		m, err := readTrackerMsg(st)
		if err != nil {
			return err
		}
		switch x := m.Msg.(type) {
		case *trackerpb.TrackerMsg_Updates:
			entries := make([]Entry, 0, len(x.Updates.Entries))
			for _, pe := range x.Updates.Entries {
				e, err := entryFromPB(pe)
				if err != nil {
					return err
				}
				entries = append(entries, e)
			}
			if len(entries) > 0 {
				if !d.waitRoom(cc.awaiting, ctx.Done()) {
					return ctx.Err()
				}
				d.pushEntries(len(entries), func(h Handler) {
					// Updates of a connection that a newer registration
					// replaced are dropped: that registration asked for
					// everything past what was handled, and a re-announce
					// must not meet what came before it.
					if c.conns.Load() == cc.num {
						h.Updates(entries)
					}
				})
			}
		case *trackerpb.TrackerMsg_Peers:
			peers, err := peersFromPB(x.Peers.Peers)
			if err != nil {
				return err
			}
			d.push(func(h Handler) { h.PeersChanged(peers) })
		case *trackerpb.TrackerMsg_Results:
			cc.mu.Lock()
			ch := cc.pending[x.Results.RequestId]
			delete(cc.pending, x.Results.RequestId)
			cc.mu.Unlock()
			if ch != nil {
				ch <- x.Results // buffered
			}
		case *trackerpb.TrackerMsg_Error:
			return &remoteError{x.Error.Code, x.Error.Message}
		default:
			return fmt.Errorf("%w: unexpected %T from tracker", ErrProtocol, x)
		}
	}
}

// writeLoop owns the stream's writes: requests, the stream's keep-alive at
// the registered interval and, every probe period during which nothing was
// written on the connection (by any folder's stream), a probe: a padded
// keep-alive that a restarted tracker answers with a stateless reset.
func (c *Client) writeLoop(ctx context.Context, st transport.Stream, cc *clientConn, interval time.Duration, dialer *Dialer) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := interval
	if c.cfg.Probe > 0 {
		tick = min(tick, c.cfg.Probe)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	keep := &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_KeepAlive{KeepAlive: &trackerpb.KeepAlive{Padding: make([]byte, probePadding)}}}
	last := time.Now() // of this stream's last write
	for {
		var m *trackerpb.PeerMsg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			// Ticks are not exact: anything due within half a tick is due.
			streamDue := now.Sub(last) >= interval-tick/2
			if !streamDue && !(c.cfg.Probe > 0 && dialer.claimProbe(now, c.cfg.Probe-tick/2)) {
				continue
			}
			m = keep
		case m = <-cc.out:
		}
		st.SetWriteDeadline(time.Now().Add(max(2*interval, 10*time.Second)))
		if err := wire.Write(st, m); err != nil {
			return err
		}
		last = time.Now()
		dialer.wrote(last)
	}
}

// awaiting reports whether a request on cc waits for its answer.
func (cc *clientConn) awaiting() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.pending) > 0
}
