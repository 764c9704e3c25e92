package discovery

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// DefaultInterval is how often a tracker announces itself unprompted. A
// peer looking for its tracker asks (a query) and is answered at once, so
// the interval only bounds how stale a listening peer's sightings get.
const DefaultInterval = 30 * time.Second

// AnswerGap is the least time between two announcements a tracker sends
// in answer to queries: a flood of queries costs it one announcement per
// interface a second.
const AnswerGap = time.Second

// AnnouncerConfig configures an Announcer. Key and Port are required.
type AnnouncerConfig struct {
	Key  ed25519.PrivateKey // the tracker's identity key (its device ID is the public key's hash)
	Port int                // the tracker's port (QUIC and TCP)
	// Only, when valid, is the one address the tracker listens on: it is
	// announced on that address's interface only.
	Only netip.Addr
	// DiscoveryPort is the UDP port to listen for queries on and to send
	// to; 0 means DefaultPort.
	DiscoveryPort int
	// Interval between unprompted announcements; 0 means DefaultInterval.
	Interval time.Duration
	// Targets lists where to send each round; nil means
	// InterfaceTargets(DiscoveryPort, Only), read again every round (an
	// interface that comes up or changes address is used from the next).
	Targets func() []Target
	Log     *slog.Logger // nil discards
}

// Announcer is the tracker's side: Run announces the tracker on every
// interface every Interval, and at once (at most once per AnswerGap) when
// a query names it or any tracker.
type Announcer struct {
	cfg AnnouncerConfig
	id  identity.DeviceID
	now func() time.Time

	warned map[netip.AddrPort]bool // targets whose last send failed (warned once); Run's only
	on     string                  // the addresses announced last round, logged when they change; Run's only
}

// NewAnnouncer checks cfg and returns an Announcer; nothing is sent until Run.
func NewAnnouncer(cfg AnnouncerConfig) (*Announcer, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("discovery: announcer needs the tracker's Ed25519 key")
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("discovery: announcer port %d", cfg.Port)
	}
	if cfg.DiscoveryPort == 0 {
		cfg.DiscoveryPort = DefaultPort
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Targets == nil {
		port, only := cfg.DiscoveryPort, cfg.Only
		cfg.Targets = func() []Target { return InterfaceTargets(port, only) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id := identity.NewDeviceID(cfg.Key.Public().(ed25519.PublicKey))
	return &Announcer{cfg: cfg, id: id, now: time.Now, warned: map[netip.AddrPort]bool{}}, nil
}

// Run announces until ctx ends, then returns nil. A discovery port that
// cannot be bound is logged and Run returns nil at once: the tracker works
// without discovery (peers then need --tracker).
func (a *Announcer) Run(ctx context.Context) error {
	conn, err := listen(ctx, a.cfg.DiscoveryPort)
	if err != nil {
		a.cfg.Log.Warn("LAN discovery off: peers need --tracker to find this tracker", "err", err)
		return nil
	}
	queries := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by Run: ends when conn is closed below
		defer wg.Done()
		a.readQueries(conn, queries)
	}()
	defer wg.Wait()
	defer conn.Close()

	a.cfg.Log.Debug("LAN discovery: listening for queries", "discovery_port", a.cfg.DiscoveryPort, "interval", a.cfg.Interval)
	tick := time.NewTicker(a.cfg.Interval)
	defer tick.Stop()
	var lastAnswer time.Time
	for {
		a.announce(conn)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-queries:
			if wait := AnswerGap - time.Since(lastAnswer); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
			lastAnswer = time.Now()
		}
	}
}

// readQueries signals queries for this tracker (or any) on out, coalesced.
func (a *Announcer) readQueries(conn *net.UDPConn, out chan<- struct{}) {
	buf := make([]byte, MaxPacket+1)
	for {
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // a transient error of one datagram (ICMP-caused on some systems)
		}
		id, err := DecodeQuery(buf[:n])
		if err != nil || (!id.IsZero() && id != a.id) {
			continue // announcements (ours included), other trackers' queries, noise
		}
		select {
		case out <- struct{}{}:
		default:
		}
	}
}

// announce sends one announcement to every target, naming the target's
// local address.
func (a *Announcer) announce(conn *net.UDPConn) {
	now := a.now()
	targets := a.cfg.Targets()
	var on []string
	for _, t := range targets {
		on = append(on, t.Local.String())
	}
	if s := strings.Join(on, " "); s != a.on {
		a.on = s
		if len(on) == 0 {
			a.cfg.Log.Info("no network interface to announce the tracker on (none is up with an IPv4 broadcast address)")
		} else {
			a.cfg.Log.Info("announcing the tracker on the local network", "addresses", on, "port", a.cfg.Port)
		}
	}
	for _, t := range targets {
		pkt, err := EncodeAnnouncement(a.cfg.Key, netip.AddrPortFrom(t.Local, uint16(a.cfg.Port)), now)
		if err != nil {
			a.cfg.Log.Debug("discovery: announcement not made", "target", t.Dest, "err", err)
			continue
		}
		_, err = conn.WriteToUDPAddrPort(pkt, t.Dest)
		warn := err != nil && !a.warned[t.Dest]
		a.warned[t.Dest] = err != nil
		if warn {
			a.cfg.Log.Warn("discovery: cannot announce on this network", "to", t.Dest, "err", err)
		}
	}
}
