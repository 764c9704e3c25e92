package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// Mode is which transports a node speaks (the --transport flag).
type Mode string

// Modes; the zero Mode is ModeAuto.
const (
	// ModeAuto listens on UDP and TCP and dials QUIC first, falling back to
	// TCP (see Dialer).
	ModeAuto Mode = "auto"
	// ModeQUIC listens and dials over QUIC (UDP) only.
	ModeQUIC Mode = "quic"
	// ModeTCP listens and dials over TLS on TCP only.
	ModeTCP Mode = "tcp"
)

// ParseMode parses "auto", "quic" or "tcp" ("" is auto).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeQUIC, ModeTCP:
		return m, nil
	}
	return "", fmt.Errorf("transport %q: want auto, quic or tcp", s)
}

func (m Mode) norm() Mode {
	if m == "" {
		return ModeAuto
	}
	return m
}

// The auto rule's timings.
const (
	// DefaultFallback is how long an auto dial waits for its preferred
	// transport before it dials the other one too.
	DefaultFallback = time.Second
	// DefaultQUICRetry is how long an auto dial to a remote whose QUIC dial
	// got no answer (TCP won) prefers TCP before it prefers QUIC again.
	DefaultQUICRetry = 5 * time.Minute
)

// Dialer dials Sessions in a Mode. In ModeAuto it prefers QUIC: it dials
// QUIC and, if that has not succeeded within Fallback (or failed before),
// dials TCP as well; the first session established wins and the other dial
// is cancelled (a session it made anyway is closed). When TCP wins, the
// Dialer remembers the address and for QUICRetry prefers TCP there (the
// same race with the roles swapped, so a remote whose UDP came back is
// still reached); after that QUIC is preferred again. When QUIC wins the
// memory of the address is cleared. A bulk Dialer (Bulk, for piece
// transfers) starts with TCP instead for an address on a network this host
// is directly on (loopback included), with QUIC raced after Fallback: TCP
// moves bulk data on a LAN with less CPU than QUIC. A Dialer is safe for
// concurrent use.
type Dialer struct {
	mode Mode
	bulk bool
	log  *slog.Logger
	// quic and tcp dial one transport (the package-level dials, or a
	// NodeListener's listeners).
	quic, tcp func(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error)

	// Fallback and QUICRetry are the auto rule's timings (zero: the
	// defaults). Set them before the first Dial.
	Fallback, QUICRetry time.Duration

	mem *dialMemory // shared with the Dialers Bulk returns
}

// dialMemory is which remotes prefer TCP, until when.
type dialMemory struct {
	mu       sync.Mutex
	tcpUntil map[string]time.Time
}

// NewDialer returns a Dialer of id with options opt in mode m. Each QUIC
// dial uses a UDP socket of its own (the package-level Dial).
func NewDialer(id *identity.Identity, opt Options, m Mode) *Dialer {
	d := &Dialer{mode: m.norm(), log: opt.log(), mem: &dialMemory{tcpUntil: map[string]time.Time{}}}
	d.quic = func(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
		c, err := Dial(ctx, addr, id, expect, opt)
		if err != nil {
			return nil, err
		}
		return c.Session(), nil
	}
	d.tcp = func(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
		return DialTCP(ctx, addr, id, expect, opt)
	}
	return d
}

// Bulk returns a Dialer like d (same transports, timings and memory of
// which remotes needed TCP) that in ModeAuto starts with TCP for an address
// on a directly connected network (onLink).
func (d *Dialer) Bulk() *Dialer {
	b := *d
	b.bulk = true
	return &b
}

// Mode returns the Dialer's mode.
func (d *Dialer) Mode() Mode { return d.mode }

// Dial connects to the node at addr ("host:port": the same port number
// over UDP and TCP) as its mode says. With expect != nil the handshake
// fails with ErrWrongDevice unless the remote's device ID equals *expect.
// When both transports fail, the error joins both (errors.Is sees either).
func (d *Dialer) Dial(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
	switch d.mode {
	case ModeQUIC:
		return d.quic(ctx, addr, expect)
	case ModeTCP:
		return d.tcp(ctx, addr, expect)
	}
	return d.race(ctx, addr, expect)
}

// PrefersTCP reports whether an auto dial to addr now tries TCP first.
func (d *Dialer) PrefersTCP(addr string) bool {
	if d.bulk && onLink(addr) {
		return true
	}
	m := d.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.tcpUntil[addr]
	if ok && time.Now().After(until) {
		delete(m.tcpUntil, addr)
		return false
	}
	return ok
}

// onLink reports whether addr's host is an IP address of loopback or of a
// network one of this host's interfaces is directly on.
func onLink(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (d *Dialer) remember(addr string, network string) {
	m := d.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if network == "tcp" {
		retry := d.QUICRetry
		if retry <= 0 {
			retry = DefaultQUICRetry
		}
		m.tcpUntil[addr] = time.Now().Add(retry)
		return
	}
	delete(m.tcpUntil, addr)
}

type dialResult struct {
	s       Session
	err     error
	network string
}

// race runs the auto rule (see Dialer).
func (d *Dialer) race(ctx context.Context, addr string, expect *identity.DeviceID) (Session, error) {
	dialQUIC := func(ctx context.Context) (Session, error) { return d.quic(ctx, addr, expect) }
	dialTCP := func(ctx context.Context) (Session, error) { return d.tcp(ctx, addr, expect) }
	first, second := "quic", "tcp"
	dials := map[string]func(context.Context) (Session, error){"quic": dialQUIC, "tcp": dialTCP}
	if d.PrefersTCP(addr) {
		first, second = second, first
	}
	wait := d.Fallback
	if wait <= 0 {
		wait = DefaultFallback
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dialResult, 2)
	var wg sync.WaitGroup
	start := func(network string) {
		wg.Go(func() {
			s, err := dials[network](rctx)
			results <- dialResult{s, err, network}
		})
	}
	start(first)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	started, pending := 1, 1
	var errs []error
	var won *dialResult
	for won == nil && pending > 0 {
		select {
		case <-timer.C:
			if started == 1 {
				d.log.Debug("transport: no answer yet, dialling the other transport too", "addr", addr, "first", first, "after", wait)
				start(second)
				started, pending = 2, pending+1
			}
		case r := <-results:
			pending--
			if r.err == nil {
				won = &r
				break
			}
			errs = append(errs, fmt.Errorf("%s: %w", r.network, r.err))
			if started == 1 && ctx.Err() == nil {
				start(second)
				started, pending = 2, pending+1
			}
		}
	}
	cancel()
	// The other dial ends promptly once cancelled; a session it made
	// anyway is closed.
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		if r.err == nil && r.s != nil {
			_ = r.s.CloseWithError(0, "another transport won")
		}
	}
	if won == nil {
		return nil, errors.Join(errs...)
	}
	if won.network != first || first == "quic" {
		d.remember(addr, won.network)
	}
	if won.network == "tcp" && first == "quic" {
		log := d.log.With("addr", addr, "retry_quic_in", d.retry())
		if len(errs) > 0 { // QUIC failed before TCP won
			log = log.With("quic_err", errors.Join(errs...))
		}
		log.Info("transport: QUIC got no answer, using TCP")
	}
	return won.s, nil
}

func (d *Dialer) retry() time.Duration {
	if d.QUICRetry > 0 {
		return d.QUICRetry
	}
	return DefaultQUICRetry
}
