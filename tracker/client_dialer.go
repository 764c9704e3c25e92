package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
)

// DialerConfig configures a Dialer. Addr, Identity and Tracker are required.
type DialerConfig struct {
	Addr      string             // tracker host:port
	Identity  *identity.Identity // this device
	Tracker   identity.DeviceID  // pinned tracker device ID (from the token)
	Transport transport.Options  // QUIC and TCP options (zero: defaults)
	// Net dials the tracker (its mode and its memory of which transport
	// worked where); nil: a transport.Dialer in ModeAuto of its own.
	Net *transport.Dialer
	Log *slog.Logger // nil discards
}

// Dialer is a device's one connection to the tracker, shared by the
// Clients of its folders (ClientConfig.Dialer): each Client opens its own
// control stream on it. The connection is dialled when a Client first needs
// it and dialled again after it ended. Close closes it; a Dialer is safe
// for concurrent use.
type Dialer struct {
	cfg DialerConfig

	mu      sync.Mutex
	conn    transport.Session
	dialing chan struct{} // closed when the dial under way ends; nil if none
	closed  bool
	dials   int // connections dialled (tests)
	// LAN discovery (client_resolve.go): where to dial, and how the last dial went
	resolver func(ctx context.Context, failed error) (string, error)
	failed   error

	lastWrite atomic.Int64 // unix nanoseconds of the last write of any Client's stream
}

// NewDialer returns a dialer; nothing is dialled until a Client asks.
func NewDialer(cfg DialerConfig) *Dialer {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Net == nil {
		cfg.Net = transport.NewDialer(cfg.Identity, cfg.Transport, transport.ModeAuto)
	}
	return &Dialer{cfg: cfg}
}

// errDialerClosed: the Dialer was closed.
var errDialerClosed = errors.New("tracker connection closed")

// get returns the live connection, dialling it if there is none (one dial
// at a time; the others wait for it). A wrong tracker identity wraps
// ErrTrackerIdentity.
func (d *Dialer) get(ctx context.Context) (transport.Session, error) {
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, errDialerClosed
		}
		if d.conn != nil && d.conn.Context().Err() == nil {
			c := d.conn
			d.mu.Unlock()
			return c, nil
		}
		if ch := d.dialing; ch != nil {
			d.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		old := d.conn
		d.conn, d.dialing = nil, ch
		d.mu.Unlock()
		if old != nil {
			_ = old.CloseWithError(0, "") // ended already; releases its socket
		}
		conn, err := resolved(ctx, d, d.dial)
		d.mu.Lock()
		d.dialing = nil
		close(ch)
		if err == nil && d.closed {
			_ = conn.CloseWithError(0, "")
			conn, err = nil, errDialerClosed
		}
		if err == nil {
			d.conn = conn
			d.dials++
		}
		d.mu.Unlock()
		return conn, err
	}
}

func (d *Dialer) dial(ctx context.Context) (transport.Session, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := d.cfg.Net.Dial(dctx, d.cfg.Addr, &d.cfg.Tracker)
	if err != nil {
		if errors.Is(err, transport.ErrWrongDevice) {
			return nil, fmt.Errorf("%w: tracker %s: %w", ErrTrackerIdentity, d.cfg.Addr, err)
		}
		return nil, fmt.Errorf("connect to tracker %s: %w", d.cfg.Addr, err)
	}
	d.cfg.Log.Info("connected to tracker", "addr", d.cfg.Addr, "transport", conn.Network())
	return conn, nil
}

// drop closes conn if it is still the current connection, so that the
// next get dials again (a Client whose stream broke for a reason of the
// connection: a write that timed out, a protocol error of the tracker's).
// Every other stream on it ends too, and their Clients reconnect.
func (d *Dialer) drop(conn transport.Session) {
	d.mu.Lock()
	cur := d.conn == conn
	if cur {
		d.conn = nil
	}
	d.mu.Unlock()
	if cur {
		_ = conn.CloseWithError(0, "")
	}
}

// wrote records that a Client wrote on the connection at t.
func (d *Dialer) wrote(t time.Time) { d.lastWrite.Store(t.UnixNano()) }

// claimProbe reports whether the caller should send the connection's
// probe: nothing was written on it for at least idle before now. Of the
// Clients (folders) asking at once, one wins (it records now as the last
// write), so a device sends one probe, not one per folder.
func (d *Dialer) claimProbe(now time.Time, idle time.Duration) bool {
	last := d.lastWrite.Load()
	if now.Sub(time.Unix(0, last)) < idle {
		return false
	}
	return d.lastWrite.CompareAndSwap(last, now.UnixNano())
}

// Close closes the connection; later gets fail.
func (d *Dialer) Close() error {
	d.mu.Lock()
	conn := d.conn
	d.conn, d.closed = nil, true
	d.mu.Unlock()
	if conn != nil {
		return conn.CloseWithError(0, "")
	}
	return nil
}

// Network is the transport of the live tracker connection ("quic", "tcp"),
// "" when there is none.
func (d *Dialer) Network() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil || d.conn.Context().Err() != nil {
		return ""
	}
	return d.conn.Network()
}
