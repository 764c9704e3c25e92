package tracker

import (
	"context"
	"errors"
	"fmt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
	"google.golang.org/protobuf/proto"
)

func (c *Client) setCurrent(cc *clientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = cc
	if cc != nil {
		close(c.up)
	} else {
		c.up = make(chan struct{})
	}
}

// current waits for a registered connection.
func (c *Client) current(ctx context.Context) (*clientConn, error) {
	for {
		c.mu.Lock()
		cc, up := c.cur, c.up
		c.mu.Unlock()
		if cc != nil {
			return cc, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-up:
		}
	}
}

// Update reports changes and returns one Result per change, in order. It
// waits for a connection (until ctx ends), splits the changes into batches of
// at most MaxBatch and returns an error wrapping ErrNotConnected if the
// connection ends before an answer.
func (c *Client) Update(ctx context.Context, changes []Change) ([]Result, error) {
	return c.update(ctx, 0, plainBatch, changes)
}

// What a FileUpdate batch is.
type batchKind int

const (
	plainBatch      batchKind = iota // changes, with ownership flags if one is set
	reannounceBatch                  // a re-announce: ancestors, no ownership flags
)

// update is Update, on registration conn only if conn is not 0, with
// batches of kind.
func (c *Client) update(ctx context.Context, conn uint64, kind batchKind, changes []Change) ([]Result, error) {
	out := make([]Result, 0, len(changes))
	for len(changes) > 0 {
		batch := changes[:min(len(changes), MaxBatch)]
		msg, n := encodeBatch(batch, kind)
		if n == 0 {
			return out, fmt.Errorf("tracker update %q: %w: manifest larger than a message", batch[0].New.Path, ErrTooLarge)
		}
		rs, err := c.send(ctx, msg, n, conn)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
		changes = changes[n:]
	}
	return out, nil
}

// buildBatch encodes a prefix of changes that fits in one frame; n is its
// length. Ownership flags are sent only if one of them is set.
func buildBatch(changes []Change) (*trackerpb.FileUpdate, int) {
	return encodeBatch(changes, plainBatch)
}

// encodeBatch is buildBatch for a batch of kind: a reannounceBatch carries
// each change's ancestors and no ownership flags; a plainBatch carries
// ownership flags and unacked reports, each only if one change has any.
func encodeBatch(changes []Change, kind batchKind) (*trackerpb.FileUpdate, int) {
	reannounce := kind == reannounceBatch
	u := &trackerpb.FileUpdate{Reannounce: reannounce}
	size, flagged, listed := 0, false, false
	var lists []*trackerpb.Ancestors
	for i := range changes {
		p := manifest.ToProto(&changes[i].New)
		sz := proto.Size(p) + 8 + 1 // the change and its flag
		ids := changes[i].Unacked
		if reannounce {
			ids = changes[i].Ancestors
		}
		anc := ancestorsToPB(ids)
		sz += proto.Size(anc) + 4
		if size+sz > MaxMessageSize-1024 {
			break
		}
		size += sz
		u.Changes = append(u.Changes, p)
		lists = append(lists, anc)
		listed = listed || len(ids) > 0
		if reannounce {
			continue // no ownership flags in a re-announce
		}
		u.OwnershipOnly = append(u.OwnershipOnly, changes[i].OwnershipOnly)
		flagged = flagged || changes[i].OwnershipOnly
	}
	if !flagged {
		u.OwnershipOnly = nil
	}
	switch {
	case reannounce:
		u.Ancestors = lists
	case listed:
		u.Unacked = lists
	}
	return u, len(u.Changes)
}

func (c *Client) send(ctx context.Context, u *trackerpb.FileUpdate, n int, conn uint64) ([]Result, error) {
	cc, err := c.currentConn(ctx, conn)
	if err != nil {
		return nil, err
	}
	u.RequestId = c.nextID.Add(1)
	ch := make(chan *trackerpb.Results, 1)
	cc.mu.Lock()
	cc.pending[u.RequestId] = ch
	cc.mu.Unlock()
	forget := func() {
		cc.mu.Lock()
		delete(cc.pending, u.RequestId)
		cc.mu.Unlock()
	}
	select {
	case cc.out <- &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: u}}:
	case <-cc.done:
		forget()
		return nil, ErrNotConnected
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	var r *trackerpb.Results
	select {
	case r = <-ch:
	case <-cc.done:
		forget()
		return nil, fmt.Errorf("tracker update: %w", ErrNotConnected)
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	if len(r.Results) != n {
		return nil, fmt.Errorf("%w: %d results for %d changes", ErrProtocol, len(r.Results), n)
	}
	out := make([]Result, n)
	for i, p := range r.Results {
		out[i] = Result{Outcome: Outcome(p.Outcome), Seq: p.Seq, Path: p.Path}
		if out[i].CurrentID, err = manifest.IDFromBytes(p.CurrentId); err != nil {
			return nil, fmt.Errorf("%w: result current_id: %w", ErrProtocol, err)
		}
		if p.Error != "" {
			out[i].Err = errors.New(p.Error)
		}
		// OUTDATED answers only a re-announce or a change with unacked reports.
		outdatedOK := u.Reannounce || len(u.Unacked) > i && len(u.Unacked[i].GetFileIds()) > 0
		if out[i].Outcome < Accepted || out[i].Outcome > Outdated || out[i].Outcome == Outdated && !outdatedOK {
			return nil, fmt.Errorf("%w: unknown outcome %d", ErrProtocol, p.Outcome)
		}
	}
	return out, nil
}
