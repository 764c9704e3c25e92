package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/wire"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Reannounce sends changes as a re-announce (see Epoch and
// RegisterInfo.Reannounce) on registration conn, with their Ancestors, and
// returns one Result per change, in order (Outdated among the outcomes). It
// fails with an error wrapping ErrNotConnected once that connection has
// ended: a re-announce is redone on the next registration.
func (c *Client) Reannounce(ctx context.Context, conn uint64, changes []Change) ([]Result, error) {
	return c.update(ctx, conn, reannounceBatch, changes)
}

// UpdateOn is Update on registration conn only: it fails with an error
// wrapping ErrNotConnected once that connection has ended.
func (c *Client) UpdateOn(ctx context.Context, conn uint64, changes []Change) ([]Result, error) {
	return c.update(ctx, conn, plainBatch, changes)
}

// ReannounceDone ends the re-announce of registration conn: the tracker
// starts sending updates (everything it has). Call it after every
// re-announced change was answered.
func (c *Client) ReannounceDone(ctx context.Context, conn uint64) error {
	cc, err := c.currentConn(ctx, conn)
	if err != nil {
		return err
	}
	select {
	case cc.out <- &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_ReannounceDone{ReannounceDone: &trackerpb.ReannounceDone{}}}:
		return nil
	case <-cc.done:
		return fmt.Errorf("tracker re-announce done: %w", ErrNotConnected)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// registering runs ClientConfig.Registering for a new registration on
// control stream st, before the stream has any other user. A client without
// it keeps no state across connections: it has nothing to re-announce, so it
// ends a re-announce at once.
func (c *Client) registering(st transport.Stream, info RegisterInfo) error {
	if c.cfg.Registering != nil {
		if err := c.cfg.Registering(info); err != nil {
			return fmt.Errorf("after registration: %w", err)
		}
		return nil
	}
	if !info.Reannounce {
		return nil
	}
	st.SetWriteDeadline(time.Now().Add(dialTimeout))
	defer st.SetWriteDeadline(time.Time{})
	return wire.Write(st, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_ReannounceDone{ReannounceDone: &trackerpb.ReannounceDone{}}})
}

// currentConn waits for a registered connection; with conn not 0 it must be
// that registration's.
func (c *Client) currentConn(ctx context.Context, conn uint64) (*clientConn, error) {
	if conn != 0 && c.conns.Load() != conn {
		return nil, fmt.Errorf("tracker registration %d ended: %w", conn, ErrNotConnected)
	}
	cc, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	if conn != 0 && cc.num != conn {
		return nil, fmt.Errorf("tracker registration %d ended (now %d): %w", conn, cc.num, ErrNotConnected)
	}
	return cc, nil
}

// ancestorsToPB encodes at most MaxAncestors ancestors.
func ancestorsToPB(ids []manifest.ID) *trackerpb.Ancestors {
	a := &trackerpb.Ancestors{}
	for _, id := range ids[:min(len(ids), MaxAncestors)] {
		a.FileIds = append(a.FileIds, id[:])
	}
	return a
}
