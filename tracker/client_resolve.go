package tracker

import (
	"context"
	"fmt"
)

// resolve returns the address of the next dial: DialerConfig.Resolve's
// (LAN discovery), else Addr.
func (d *Dialer) resolve(ctx context.Context) (string, error) {
	if d.cfg.Resolve == nil {
		return d.cfg.Addr, nil
	}
	d.mu.Lock()
	failed := d.failed
	d.mu.Unlock()
	addr, err := d.cfg.Resolve(ctx, failed)
	if err != nil {
		return "", fmt.Errorf("find tracker: %w", err)
	}
	return addr, nil
}

// dialed records a dial's outcome for the next Resolve.
func (d *Dialer) dialed(err error) {
	d.mu.Lock()
	d.failed = err
	d.mu.Unlock()
}
