package tracker

import (
	"context"
	"fmt"
)

// SetResolve makes the Dialer ask resolve for the tracker's address before
// each dial, instead of using DialerConfig.Addr (LAN discovery:
// peer/discover.go). failed is the previous dial's error (nil at the first
// dial and after one that succeeded). Call it before the first dial.
func (d *Dialer) SetResolve(resolve func(ctx context.Context, failed error) (string, error)) {
	d.mu.Lock()
	d.resolver = resolve
	d.mu.Unlock()
}

// resolved runs dial (which reads d.cfg.Addr) at the address the resolver
// gives, and records how it went for the next resolve. Dials are one at a
// time (Dialer.get), so d.cfg.Addr changes only between them. Generic over
// the connection type dial returns.
func resolved[C any](ctx context.Context, d *Dialer, dial func(context.Context) (C, error)) (C, error) {
	d.mu.Lock()
	resolve, failed := d.resolver, d.failed
	d.mu.Unlock()
	if resolve != nil {
		addr, err := resolve(ctx, failed)
		if err != nil {
			var none C
			return none, fmt.Errorf("find tracker: %w", err)
		}
		d.mu.Lock()
		d.cfg.Addr = addr
		d.mu.Unlock()
	}
	c, err := dial(ctx)
	d.mu.Lock()
	d.failed = err
	d.mu.Unlock()
	return c, err
}
