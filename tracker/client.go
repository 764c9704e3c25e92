package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker/trackerpb"
	"google.golang.org/protobuf/proto"
)

// Client defaults.
const (
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	dialTimeout       = 15 * time.Second
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
	LastSeq    func() uint64      // highest sequence applied; asked at every (re)connect; nil = 0
	Handler    Handler
	Log        *slog.Logger      // nil discards
	Transport  transport.Options // QUIC options (zero: defaults)
	MinBackoff time.Duration     // first reconnect delay (DefaultMinBackoff)
	MaxBackoff time.Duration     // largest reconnect delay (DefaultMaxBackoff)
}

// Client is a peer's connection to the tracker. Run keeps it connected;
// Update may be called from any goroutine.
type Client struct {
	cfg    ClientConfig
	log    *slog.Logger
	nextID atomic.Uint64

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
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	return &Client{cfg: cfg, log: cfg.Log, up: make(chan struct{})}
}

// Run connects, registers and keeps the connection alive, reconnecting with
// exponential backoff (with jitter) and resuming from LastSeq. It returns nil
// when ctx ends, or an error wrapping ErrWrongToken, ErrNotMember or
// ErrTrackerIdentity, which retrying cannot fix. Pushes not yet delivered to
// the Handler when Run returns are dropped.
func (c *Client) Run(ctx context.Context) error {
	if c.cfg.Identity == nil || c.cfg.Handler == nil {
		return errors.New("tracker client: Identity and Handler are required")
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
		registered, err := c.session(ctx, d)
		if ctx.Err() != nil {
			return nil
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
	return errors.Is(err, ErrTrackerIdentity) || errors.Is(err, ErrWrongToken) || errors.Is(err, ErrNotMember)
}

// clientConn is one registered connection.
type clientConn struct {
	out     chan *trackerpb.PeerMsg // to the writer
	done    chan struct{}           // closed when the connection ends
	mu      sync.Mutex
	pending map[uint64]chan *trackerpb.Results
}

// session runs one connection until it ends; registered says whether it got
// as far as REGISTERED.
func (c *Client) session(ctx context.Context, d *dispatcher) (registered bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := transport.Dial(dctx, c.cfg.Addr, c.cfg.Identity, &c.cfg.Tracker, c.cfg.Transport)
	cancel()
	if err != nil {
		if errors.Is(err, transport.ErrWrongDevice) {
			return false, fmt.Errorf("%w: %w", ErrTrackerIdentity, err)
		}
		return false, fmt.Errorf("connect to tracker %s: %w", c.cfg.Addr, err)
	}
	defer conn.CloseWithError(0, "")
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return false, c.connErr(err)
	}
	info, err := c.register(st)
	if err != nil {
		return false, c.connErr(err)
	}
	c.log.Info("registered with tracker", "addr", c.cfg.Addr, "peers", len(info.Peers), "seq", info.Seq, "new_member", info.NewMember)
	d.push(func(h Handler) { h.Registered(info) })

	cc := &clientConn{out: make(chan *trackerpb.PeerMsg), done: make(chan struct{}), pending: map[uint64]chan *trackerpb.Results{}}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.readLoop(st, cc, d) })
	g.Go(func() error { return c.writeLoop(gctx, st, cc, info.Interval) })
	g.Go(func() error { // unblock the reader when the writer or ctx ends
		<-gctx.Done()
		st.CancelRead(0)
		conn.CloseWithError(0, "")
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

func (c *Client) register(st *quic.Stream) (RegisterInfo, error) {
	var last uint64
	if c.cfg.LastSeq != nil {
		last = c.cfg.LastSeq()
	}
	reg := &trackerpb.Register{Protocol: ProtocolVersion, ListenPort: uint32(c.cfg.ListenPort), Folder: c.cfg.Folder, LastSeq: last, JoinSecret: c.cfg.Secret}
	st.SetDeadline(time.Now().Add(dialTimeout))
	defer st.SetDeadline(time.Time{})
	if err := wire.Write(st, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: reg}}); err != nil {
		return RegisterInfo{}, err
	}
	m, err := readTrackerMsg(st)
	if err != nil {
		return RegisterInfo{}, err
	}
	if e := m.GetError(); e != nil {
		return RegisterInfo{}, &remoteError{e.Code, e.Message}
	}
	r := m.GetRegistered()
	if r == nil {
		return RegisterInfo{}, fmt.Errorf("%w: tracker answered REGISTER with %T", ErrProtocol, m.Msg)
	}
	peers, err := peersFromPB(r.Peers)
	if err != nil {
		return RegisterInfo{}, err
	}
	return RegisterInfo{
		Interval: time.Duration(r.IntervalMs) * time.Millisecond, PieceSize: int64(r.PieceSize),
		Peers: peers, Seq: r.Seq, NewMember: r.NewMember,
	}, nil
}

func readTrackerMsg(st *quic.Stream) (*trackerpb.TrackerMsg, error) {
	body, err := wire.ReadBytes(st, MaxMessageSize)
	if err != nil {
		return nil, err
	}
	return decodeTrackerMsg(body)
}

// readLoop receives pushes (to the dispatcher) and results (to Update calls).
func (c *Client) readLoop(st *quic.Stream, cc *clientConn, d *dispatcher) error {
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
				d.push(func(h Handler) { h.Updates(entries) })
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

// writeLoop owns the stream's writes: requests and keep-alives.
func (c *Client) writeLoop(ctx context.Context, st *quic.Stream, cc *clientConn, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	keep := &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_KeepAlive{KeepAlive: &trackerpb.KeepAlive{}}}
	for {
		var m *trackerpb.PeerMsg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			m = keep
		case m = <-cc.out:
		}
		st.SetWriteDeadline(time.Now().Add(max(2*interval, 10*time.Second)))
		if err := wire.Write(st, m); err != nil {
			return err
		}
	}
}

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
	out := make([]Result, 0, len(changes))
	for len(changes) > 0 {
		batch := changes[:min(len(changes), MaxBatch)]
		msg, n := buildBatch(batch)
		if n == 0 {
			return out, fmt.Errorf("tracker update %q: %w: manifest larger than a message", batch[0].New.Path, ErrTooLarge)
		}
		rs, err := c.send(ctx, msg, n)
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
	u := &trackerpb.FileUpdate{}
	size, flagged := 0, false
	for i := range changes {
		p := manifest.ToProto(&changes[i].New)
		sz := proto.Size(p) + 8 + 1 // the change and its flag
		if size+sz > MaxMessageSize-1024 {
			break
		}
		size += sz
		u.Changes = append(u.Changes, p)
		u.OwnershipOnly = append(u.OwnershipOnly, changes[i].OwnershipOnly)
		flagged = flagged || changes[i].OwnershipOnly
	}
	if !flagged {
		u.OwnershipOnly = nil
	}
	return u, len(u.Changes)
}

func (c *Client) send(ctx context.Context, u *trackerpb.FileUpdate, n int) ([]Result, error) {
	cc, err := c.current(ctx)
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
		if p.Current != nil {
			if out[i].Current, err = manifest.FromProto(p.Current); err != nil {
				return nil, fmt.Errorf("%w: result current: %w", ErrProtocol, err)
			}
		}
		if p.Error != "" {
			out[i].Err = errors.New(p.Error)
		}
		if out[i].Outcome < Accepted || out[i].Outcome > Rejected {
			return nil, fmt.Errorf("%w: unknown outcome %d", ErrProtocol, p.Outcome)
		}
	}
	return out, nil
}

// dispatcher calls the Handler from one goroutine in push order. Its queue
// is unbounded so that a Handler calling Update can never deadlock the
// reader that delivers Update's answer.
type dispatcher struct {
	h      Handler
	mu     sync.Mutex
	queue  []func(Handler)
	signal chan struct{}
}

func newDispatcher(h Handler) *dispatcher {
	return &dispatcher{h: h, signal: make(chan struct{}, 1)}
}

func (d *dispatcher) push(f func(Handler)) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.signal:
		}
		for {
			d.mu.Lock()
			q := d.queue
			d.queue = nil
			d.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, f := range q {
				if ctx.Err() != nil {
					return
				}
				f(d.h)
			}
		}
	}
}
