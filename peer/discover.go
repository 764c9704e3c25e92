package peer

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/discovery"
	"github.com/dartsync/dartsync/internal/identity"
)

// Bounds of looking for the tracker on the LAN (see trackerResolver).
const (
	// lookAgain is how long a dial that failed at the known address waits
	// for the tracker to answer a query before that address is tried again.
	lookAgain = 5 * time.Second
	// lookAtStart is how long the first dial of a run, and every redial of
	// a tracker heard on the LAN in this run, waits for the tracker to
	// answer there before the known address is dialled: a tracker that
	// moved (while this device was off, or while it restarted) is dialled
	// where it is, not after a dial of its old address timed out (11 s with
	// QUIC and TCP), and one restarting at its address is dialled as soon
	// as it announces itself. A tracker that is not on the LAN costs this
	// once per start.
	lookAtStart = 500 * time.Millisecond
	// hintAfter: a device with no address that has not found its tracker
	// after this long names the other trackers it hears (a tracker whose
	// state was reset has a new device ID and a new token).
	hintAfter = 10 * time.Second
)

// trackerResolver is the address the daemon dials its tracker at
// (tracker.DialerConfig.Resolve): the one given (--tracker) or remembered,
// or one found on the LAN (internal/discovery) when there is none, when a
// dial there failed, or when the tracker announced another address since.
// Whom the peer trusts never changes: the dial pins the tracker's device
// ID, so an address from the LAN can only lead to that device or to an
// error (a wrong identity stops the peer, as for an address given by hand).
// The address of the last successful registration is remembered in the
// index (handler.Registered), so a tracker that moved is dialled at its
// new address after a restart too.
type trackerResolver struct {
	id     identity.DeviceID
	finder *discovery.Finder // nil: discovery off
	log    *slog.Logger
	port   int // the discovery port, for the log
	// hintAfter is how long a first search goes on before the other
	// trackers heard are named (hintAfter; tests shorten it).
	hintAfter time.Duration

	mu      sync.Mutex
	addr    string
	since   time.Time // when addr was set: sightings received before it are no news
	started bool      // the first resolve happened
	hinted  bool      // the other trackers heard were named once
	looking bool      // "looking for the tracker" was logged
}

func newTrackerResolver(addr string, id identity.DeviceID, finder *discovery.Finder, port int, log *slog.Logger) *trackerResolver {
	return &trackerResolver{id: id, finder: finder, log: log, port: cmp.Or(port, discovery.DefaultPort), hintAfter: hintAfter,
		addr: addr, since: time.Now()}
}

// current is the address dialled last (or to dial first); "" when it is
// still being looked for.
func (r *trackerResolver) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// get returns the address, when it was set, and whether this is the
// first resolve of the run.
func (r *trackerResolver) get() (addr string, since time.Time, first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	first, r.started = !r.started, true
	return r.addr, r.since, first
}

// resolve returns the address to dial; failed is the previous dial's error.
func (r *trackerResolver) resolve(ctx context.Context, failed error) (string, error) {
	addr, since, first := r.get()
	if r.finder == nil {
		return addr, nil
	}
	if s, ok := r.finder.Newest(r.id, since); ok && s.Addr.String() != addr && !sameAddr(ctx, addr, s.Addr) {
		return r.found(s, "the tracker announced another address"), nil
	}
	if addr == "" {
		return r.first(ctx)
	}
	if failed == nil && !first {
		if _, onLAN := r.finder.Newest(r.id, time.Time{}); !onLAN {
			return addr, nil // a tracker elsewhere: no need to ask the LAN before every redial
		}
	}
	wait, why := lookAgain, "the tracker does not answer at its known address"
	if failed == nil {
		wait, why = lookAtStart, "the tracker announces another address than the known one"
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	s, err := r.finder.Find(wctx, r.id, time.Now())
	if err == nil && s.Addr.String() != addr && (failed != nil || !sameAddr(ctx, addr, s.Addr)) {
		return r.found(s, why), nil
	}
	if failed == nil {
		return addr, nil
	}
	if err != nil && ctx.Err() == nil && len(r.finder.Others(r.id)) > 0 {
		// (a tracker that is merely restarting is not worth a warning)
		r.hint("the tracker does not answer at its known address nor on the local network, where other trackers do; still trying")
	}
	return addr, nil
}

// hint warns, once, that the tracker is not found, naming the other
// trackers heard: one whose state was reset has a new device ID (and
// token), and the user must join it again.
func (r *trackerResolver) hint(msg string) {
	r.mu.Lock()
	done := r.hinted
	r.hinted = true
	r.mu.Unlock()
	if done {
		return
	}
	others := r.finder.Others(r.id)
	names := make([]string, len(others))
	for i, o := range others {
		names[i] = o.String()
	}
	r.log.Warn(msg+" (give --tracker HOST:PORT if it is on another network; a tracker whose state was reset "+
		"has a new device ID and a new join token)", "tracker", r.id.String(), "other_trackers", names)
}

// first looks for the tracker until it is found or ctx ends, naming the
// other trackers it hears once hintAfter has passed.
func (r *trackerResolver) first(ctx context.Context) (string, error) {
	r.mu.Lock()
	said := r.looking
	r.looking = true
	r.mu.Unlock()
	if !said {
		r.log.Info("looking for the tracker on the local network", "tracker", r.id.String(), "discovery_port", r.port)
	}
	hctx, cancel := context.WithTimeout(ctx, r.hintAfter)
	s, err := r.finder.Find(hctx, r.id, time.Time{})
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		r.hint("the tracker named by the join token does not answer on the local network yet; still looking")
		s, err = r.finder.Find(ctx, r.id, time.Time{})
	}
	if err != nil {
		return "", err
	}
	return r.found(s, "found on the local network"), nil
}

// found makes s's address the one to dial.
func (r *trackerResolver) found(s discovery.Sighting, why string) string {
	addr := s.Addr.String()
	r.mu.Lock()
	old := r.addr
	r.addr, r.since = addr, s.Received
	r.mu.Unlock()
	r.log.Info("tracker address from the local network: "+why, "addr", addr, "was", old, "tracker", r.id.Short())
	return addr
}

// sameAddr reports whether addr (HOST:PORT as given or remembered: a name
// or an IP) is ap: a name that resolves to ap's address is, so a tracker
// given as pi.local:7000 stays known by that name.
func sameAddr(ctx context.Context, addr string, ap netip.AddrPort) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != strconv.Itoa(int(ap.Port())) {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap() == ap.Addr().Unmap()
	}
	lctx, cancel := context.WithTimeout(ctx, lookAtStart)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil {
		return false
	}
	for _, ip := range ips {
		if ip.Unmap() == ap.Addr().Unmap() {
			return true
		}
	}
	return false
}
