package transfer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/bandwidth"
)

// connPool keeps connections (QUIC or TCP: the Dialer decides) to source devices, dialled on first use
// and pinned to the device ID: one per lane (FetchOptions.Conns lanes per
// device) and class (bulk: dialled by FetchOptions.BulkDialer, for large
// files). Concurrent users of a lane share one dial.
type connPool struct {
	dialer *transport.Dialer
	bulk   *transport.Dialer // dials the bulk lanes
	log    *slog.Logger

	mu     sync.Mutex
	conns  map[poolKey]*poolEntry
	closed bool
	dials  sync.WaitGroup
	bw     *bandwidth.Limiter // reads of every stream wait on its receive limit; nil: none
}

// poolKey names one connection: a device and a lane.
type poolKey struct {
	id   identity.DeviceID
	lane int
	bulk bool
}

// poolEntry is one connection, ready once its dial has ended.
type poolEntry struct {
	addr  string // address dialled
	ready chan struct{}
	conn  transport.Session // set before ready is closed; nil if err != nil
	err   error
}

func newConnPool(d *transport.Dialer, log *slog.Logger) *connPool {
	return &connPool{dialer: d, bulk: d, log: log, conns: make(map[poolKey]*poolEntry)}
}

// get returns a live connection to src, dialling it when there is none, or
// when the pooled one has died or was dialled to another address.
func (p *connPool) get(ctx context.Context, src Source, lane int, bulk bool) (transport.Session, error) {
	key := poolKey{src.ID, lane, bulk}
	for range 3 {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		e := p.conns[key]
		if e == nil {
			e = &poolEntry{addr: src.Addr, ready: make(chan struct{})}
			p.conns[key] = e
			p.dials.Add(1)
			p.mu.Unlock()
			p.dial(ctx, src, key, e)
			if e.err != nil {
				return nil, e.err
			}
			return e.conn, nil
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil && e.conn.Context().Err() == nil && e.addr == src.Addr {
			return e.conn, nil
		}
		if e.err != nil && e.addr == src.Addr {
			return nil, e.err // another caller's dial to this address just failed
		}
		p.evict(key, e)
	}
	return nil, fmt.Errorf("transfer: no stable connection to %s at %s", src.ID.Short(), src.Addr)
}

// dial fills e and closes e.ready. A failed entry is evicted so the next
// caller dials again.
func (p *connPool) dial(ctx context.Context, src Source, key poolKey, e *poolEntry) {
	defer p.dials.Done()
	defer close(e.ready)
	want := src.ID
	d := p.dialer
	if key.bulk {
		d = p.bulk
	}
	c, err := d.Dial(ctx, src.Addr, &want)
	if err != nil {
		e.err = fmt.Errorf("transfer: dial %s at %s: %w", src.ID.Short(), src.Addr, err)
		p.evict(key, e)
		return
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		_ = c.CloseWithError(codeNormal, "fetcher closed")
		e.err = ErrClosed
		return
	}
	e.conn = p.bw.Session(c, bandwidth.Recv) // its streams' reads wait on the receive limit
	p.log.Info("connected to peer", "device", src.ID.Short(), "addr", src.Addr, "transport", c.Network(), "lane", key.lane, "bulk", key.bulk)
}

// evict forgets e if it is still the entry of key, closing its connection.
func (p *connPool) evict(key poolKey, e *poolEntry) {
	p.mu.Lock()
	if p.conns[key] == e {
		delete(p.conns, key)
	}
	p.mu.Unlock()
	if e.conn != nil {
		_ = e.conn.CloseWithError(codeNormal, "connection dropped")
	}
}

// close closes every connection and waits for dials in progress.
func (p *connPool) close() {
	p.mu.Lock()
	p.closed = true
	entries := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.dials.Wait()
	for _, e := range entries {
		if e.conn != nil {
			_ = e.conn.CloseWithError(codeNormal, "fetcher closed")
		}
	}
}

// evictConn forgets conn (which has failed), whichever lane of id it is.
func (p *connPool) evictConn(id identity.DeviceID, conn transport.Session) {
	p.mu.Lock()
	var found *poolEntry
	var key poolKey
	for k, e := range p.conns {
		if k.id != id {
			continue
		}
		select {
		case <-e.ready:
			if e.conn == conn {
				found, key = e, k
			}
		default:
		}
	}
	p.mu.Unlock()
	if found != nil {
		p.evict(key, found)
	}
}

// networks lists the transports of the live connections to id.
func (p *connPool) networks(id identity.DeviceID) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ns []string
	for k, e := range p.conns {
		if k.id != id {
			continue
		}
		select {
		case <-e.ready:
			if e.conn != nil && e.conn.Context().Err() == nil {
				ns = append(ns, e.conn.Network())
			}
		default:
		}
	}
	return ns
}
