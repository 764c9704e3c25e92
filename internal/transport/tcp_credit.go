package transport

import (
	"context"
	"encoding/binary"
	"sync"
)

// Stream credit bounds the streams a TCP session's other side may have
// open at once, like QUIC's stream limit (Options.MaxIncomingStreams):
// each side grants the other credit on the control stream (ctlCredit, a
// uint32 count of further streams) — its whole limit when the session
// starts, then in batches as the streams the other side opened finish
// (both directions done). OpenStream waits for credit. A stream opened
// without credit is cancelled at once (codeNoCredit) and not counted.
type streamCredit struct {
	limit int64 // our MaxIncomingStreams

	mu       sync.Mutex
	avail    int64         // streams we may still open
	wake     chan struct{} // closed (and replaced) when avail grows
	incoming int64         // live streams the other side opened
	freed    int64         // finished incoming streams not yet granted back
}

// codeNoCredit cancels a stream the other side opened beyond its credit.
const codeNoCredit StreamCode = 0x1c

func newStreamCredit(limit int64) *streamCredit {
	return &streamCredit{limit: limit, wake: make(chan struct{})}
}

// take waits until one stream may be opened and uses it up.
func (c *streamCredit) take(ctx, session context.Context) error {
	for {
		c.mu.Lock()
		if c.avail > 0 {
			c.avail--
			c.mu.Unlock()
			return nil
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-session.Done():
			return context.Cause(session)
		}
	}
}

// granted adds credit the other side sent.
func (c *streamCredit) granted(n uint32) {
	c.mu.Lock()
	c.avail += int64(n)
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

// admit counts a stream the other side opened; false if it had no credit.
func (c *streamCredit) admit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.incoming >= c.limit {
		return false
	}
	c.incoming++
	return true
}

// finished releases an admitted stream and returns how much credit to
// grant back now (0: wait for a larger batch).
func (c *streamCredit) finished() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.incoming--
	c.freed++
	if c.freed < max(1, c.limit/8) {
		return 0
	}
	n := c.freed
	c.freed = 0
	return uint32(n)
}

// sendCredit grants the other side n more streams.
func (s *tcpSession) sendCredit(n uint32) {
	var msg [5]byte
	msg[0] = ctlCredit
	binary.BigEndian.PutUint32(msg[1:], n)
	_, _ = s.ctl.Write(msg[:])
}
