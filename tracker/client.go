package tracker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Client defaults.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	DefaultProbe      = time.Second
	dialTimeout       = 15 * time.Second

	// probePadding is the size of a keep-alive's padding: with it the
	// packet carrying the keep-alive is over the 42 bytes below which
	// quic-go answers no packet with a stateless reset.
	probePadding = 32
)

// Handler receives what the tracker pushes. Its methods are called from one
// goroutine, in the order the tracker sent them, never concurrently. They may
// call Client.Update (the client buffers pushes meanwhile).
type Handler interface {
	// Registered is called after every successful (re)registration.
	Registered(RegisterInfo)
	// Updates delivers changed entries in increasing sequence order: after
	// registration everything since ClientConfig.LastSeq, then every later
	// change. A path appears at most once per call.
	Updates([]Entry)
	// PeersChanged delivers the complete new list of live peers (this
	// device excluded).
	PeersChanged([]PeerInfo)
}

// ClientConfig configures a Client. Addr, Identity, Tracker and Handler are required.
type ClientConfig struct {
	Addr       string             // tracker host:port
	Identity   *identity.Identity // this device
	Tracker    identity.DeviceID  // pinned tracker device ID (from the token)
	Secret     []byte             // join secret from the token; needed only until the device is a member
	ListenPort int                // port this peer serves pieces on (0: none)
	Folder     string             // folder name ("" default)
	DeviceName string             // this device's name for the tracker's dashboard ("": none); informational
	Version    string             // the dartsync version this device runs, for the dashboard; informational
	LastSeq    func() uint64      // highest sequence applied; asked at every (re)connect; nil = 0
	// LastEpoch is the epoch LastSeq counts in (nil: none). It is asked
	// right before LastSeq, so a device that moves both (a new epoch with
	// sequence number 0) is never seen with the new epoch and the old number.
	LastEpoch func() Epoch
	// LastHeard is the highest sequence number of LastEpoch the device heard
	// of (in updates and in its reports' results), at least LastSeq; asked
	// right after LastSeq (nil: not told). The tracker resumes a device of
	// an epoch that did not end cleanly only if it says (Register.heard_seq).
	LastHeard func() uint64
	// Registering, if set, is called after every successful registration,
	// before its Handler.Registered (updates of an earlier connection may
	// still be waiting for the Handler) and before Update can use it, on the
	// connection's goroutine: it must not call Update. An error ends the
	// connection (the client reconnects). A device records here what the
	// registration means for its state (RegisterInfo.Epoch, Reannounce).
	Registering func(RegisterInfo) error
	Handler     Handler
	Log         *slog.Logger      // nil discards
	Transport   transport.Options // QUIC options (zero: defaults)
	MinBackoff  time.Duration     // first reconnect delay (DefaultMinBackoff)
	MaxBackoff  time.Duration     // largest reconnect delay (DefaultMaxBackoff)
	// Probe is how long the connection may go without a write before a
	// keep-alive probes it (0: DefaultProbe; negative: no probes, only the
	// keep-alive at the tracker's interval). A tracker restarted since
	// answers the probe with a stateless reset, so a peer with nothing to
	// say learns of the restart within about Probe, not at the connection's
	// idle timeout. Its cost: one small packet and its ACK per Probe per
	// device (one for all the folders on the connection).
	Probe time.Duration
	// Dialer is the device's shared tracker connection, on which this
	// client opens its folder's control stream. nil: the client dials its
	// own from Addr, Identity, Tracker and Transport (closed when Run
	// returns).
	Dialer *Dialer
}

// Client is a peer's connection to the tracker. Run keeps it connected;
// Update may be called from any goroutine.
type Client struct {
	cfg    ClientConfig
	log    *slog.Logger
	nextID atomic.Uint64
	conns  atomic.Uint64 // registrations so far (RegisterInfo.Conn)

	mu  sync.Mutex
	cur *clientConn   // live registered connection, nil if none
	up  chan struct{} // closed when cur becomes non-nil
}

// NewClient returns a client; nothing happens until Run.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.Probe == 0 {
		cfg.Probe = DefaultProbe
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	return &Client{cfg: cfg, log: cfg.Log, up: make(chan struct{})}
}

// Run connects, registers and keeps the connection alive, reconnecting with
// exponential backoff (with jitter) and resuming from LastSeq. It returns nil
// when ctx ends, or an error wrapping ErrWrongToken, ErrNotMember or
// ErrTrackerIdentity, which retrying cannot fix. Pushes not yet delivered to
// the Handler when Run returns, or when a newer registration succeeded, are
// dropped (the newer one resumes from what was delivered).
func (c *Client) Run(ctx context.Context) error {
	if c.cfg.Identity == nil || c.cfg.Handler == nil {
		return errors.New("tracker client: Identity and Handler are required")
	}
	dialer := c.cfg.Dialer
	if dialer == nil { // this Run's own connection
		dialer = NewDialer(DialerConfig{Addr: c.cfg.Addr, Identity: c.cfg.Identity, Tracker: c.cfg.Tracker, Transport: c.cfg.Transport, Log: c.log})
		defer dialer.Close()
	}
	d := newDispatcher(c.cfg.Handler)
	dctx, dcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.run(dctx) }()
	defer wg.Wait()
	defer dcancel()

	backoff := c.cfg.MinBackoff
	for {
		registered, err := c.session(ctx, d, dialer)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrFolderNotShared) { // the other folders go on
			c.log.Warn("tracker refused this folder", "folder", c.cfg.Folder, "err", err)
			return err
		}
		if isFatal(err) {
			c.log.Error("tracker refused this device", "err", err)
			return err
		}
		if registered {
			backoff = c.cfg.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		c.log.Warn("tracker connection lost; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

func isFatal(err error) bool {
	return errors.Is(err, ErrTrackerIdentity) || errors.Is(err, ErrWrongToken) || errors.Is(err, ErrNotMember) ||
		errors.Is(err, ErrFolderNotShared)
}

// clientConn is one registered connection.
type clientConn struct {
	num     uint64                  // RegisterInfo.Conn of its registration
	out     chan *trackerpb.PeerMsg // to the writer
	done    chan struct{}           // closed when the connection ends
	mu      sync.Mutex
	pending map[uint64]chan *trackerpb.Results
}

// session runs one control stream on the shared connection until it ends;
// registered says whether it got as far as REGISTERED. The connection
// stays up for the other folders' streams, unless the stream broke for a
// reason of the connection (then it is dropped and dialled again).
func (c *Client) session(ctx context.Context, d *dispatcher, dialer *Dialer) (registered bool, err error) {
	conn, err := dialer.get(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		var re *remoteError
		if err != nil && ctx.Err() == nil && !errors.As(err, &re) && !isStreamGone(err) {
			dialer.drop(conn)
		}
	}()
	st, err := conn.OpenStream(ctx)
	if err != nil {
		return false, c.connErr(err)
	}
	defer st.CancelRead(0)
	defer st.CancelWrite(0)
	info, err := c.register(st)
	if err != nil {
		return false, c.connErr(err)
	}
	info.Conn = c.conns.Add(1)
	if err := c.registering(st, info); err != nil {
		return false, c.connErr(err)
	}
	c.log.Info("registered with tracker", "addr", c.cfg.Addr, "folder", c.cfg.Folder, "peers", len(info.Peers), "seq", info.Seq, "new_member", info.NewMember,
		"epoch", info.Epoch, "reannounce", info.Reannounce)
	d.push(func(h Handler) { h.Registered(info) })

	cc := &clientConn{num: info.Conn, out: make(chan *trackerpb.PeerMsg), done: make(chan struct{}), pending: map[uint64]chan *trackerpb.Results{}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.readLoop(gctx, st, cc, d) })
	g.Go(func() error { return c.writeLoop(gctx, st, cc, info.Interval, dialer) })
	g.Go(func() error { // unblock the reader when the writer or ctx ends
		<-gctx.Done()
		st.CancelRead(0)
		st.CancelWrite(0)
		return nil
	})
	c.setCurrent(cc)
	err = g.Wait()
	c.setCurrent(nil)
	close(cc.done)
	return true, c.connErr(err)
}

// connErr prefers the reason the tracker gave when it closed the connection.
func (c *Client) connErr(err error) error {
	if re, ok := fromConnClose(err); ok {
		return re
	}
	return err
}
