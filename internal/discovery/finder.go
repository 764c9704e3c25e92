package discovery

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// Bounds of what a Finder keeps, whatever the LAN sends it.
const (
	// MaxDevices is how many announcing devices a Finder remembers; a new
	// one replaces the one heard from longest ago. A LAN has a tracker or
	// two; anything beyond is noise or an attack.
	MaxDevices = 64
	// MaxAddrsPerDevice is how many addresses of one device a Finder
	// remembers (one per interface the tracker announces on).
	MaxAddrsPerDevice = 8
	// DefaultQueryEvery is how often a Find that is still waiting asks again.
	DefaultQueryEvery = 2 * time.Second
)

// FinderConfig configures a Finder; the zero value works.
type FinderConfig struct {
	// DiscoveryPort is the UDP port listened and queried on; 0 means DefaultPort.
	DiscoveryPort int
	// Targets lists where queries go; nil means every interface's subnet
	// broadcast address (InterfaceTargets), read again for every query.
	Targets func() []Target
	// QueryEvery is how often a waiting Find queries again; 0 means DefaultQueryEvery.
	QueryEvery time.Duration
	// Want, when not zero, is the one device whose announcements are
	// verified and kept: another device's are only noted (Others), at the
	// cost of a hash instead of a signature verification, so that a flood
	// of announcements under many keys costs a listening peer little.
	Want identity.DeviceID
	Log  *slog.Logger // nil discards
}

// Sighting is one verified announcement as a Finder received it.
type Sighting struct {
	Device   identity.DeviceID
	Addr     netip.AddrPort // where the tracker says it listens
	Made     time.Time      // when the tracker made it (its clock)
	Received time.Time      // when it arrived (this device's clock)
	From     netip.AddrPort // the packet's source
}

// Finder is the peer's side: Run listens for announcements and keeps the
// verified ones (bounded); Find asks the LAN and waits for a device. Its
// methods are safe for concurrent use.
type Finder struct {
	cfg   FinderConfig
	ready chan struct{} // closed once Run has bound the port or failed to

	mu      sync.Mutex
	conn    *net.UDPConn // nil until ready, and if the bind failed
	err     error        // why the bind failed
	seen    map[identity.DeviceID][]Sighting
	others  map[identity.DeviceID]time.Time // with Want: other devices that announced, when last (unverified)
	changed chan struct{}                   // closed and replaced at every new sighting
}

// NewFinder returns a Finder; nothing is bound until Run.
func NewFinder(cfg FinderConfig) *Finder {
	if cfg.DiscoveryPort == 0 {
		cfg.DiscoveryPort = DefaultPort
	}
	if cfg.QueryEvery <= 0 {
		cfg.QueryEvery = DefaultQueryEvery
	}
	if cfg.Targets == nil {
		port := cfg.DiscoveryPort
		cfg.Targets = func() []Target { return InterfaceTargets(port, netip.Addr{}) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Finder{cfg: cfg, ready: make(chan struct{}), seen: map[identity.DeviceID][]Sighting{},
		others: map[identity.DeviceID]time.Time{}, changed: make(chan struct{})}
}

// Run listens until ctx ends, then returns nil. A port that cannot be
// bound is logged; Run returns nil and every Find fails with ErrUnavailable.
func (f *Finder) Run(ctx context.Context) error {
	conn, err := listen(ctx, f.cfg.DiscoveryPort)
	f.mu.Lock()
	f.conn, f.err = conn, err
	f.mu.Unlock()
	close(f.ready)
	if err != nil {
		f.cfg.Log.Warn("LAN discovery off: the tracker is only reached at its known address", "err", err)
		return nil
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	buf := make([]byte, MaxPacket+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		dev, err := AnnouncedDevice(buf[:n])
		if err != nil {
			continue // queries (ours and other peers'), noise
		}
		if !f.cfg.Want.IsZero() && dev != f.cfg.Want {
			f.noteOther(dev)
			continue
		}
		a, err := DecodeAnnouncement(buf[:n])
		if err != nil {
			f.cfg.Log.Debug("discovery: announcement dropped", "from", from, "err", err)
			continue
		}
		f.record(Sighting{Device: a.Device, Addr: a.Addr, Made: a.Time, Received: time.Now(), From: from})
	}
}

// record keeps s (bounded) and wakes every waiting Find.
func (f *Finder) record(s Sighting) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list, known := f.seen[s.Device]
	if !known && len(f.seen) >= MaxDevices {
		f.evictDevice()
	}
	replaced := false
	for i := range list {
		if list[i].Addr == s.Addr {
			list[i], replaced = s, true
			break
		}
	}
	if !replaced {
		if len(list) >= MaxAddrsPerDevice {
			oldest := 0
			for i := range list {
				if list[i].Received.Before(list[oldest].Received) {
					oldest = i
				}
			}
			list = append(list[:oldest], list[oldest+1:]...)
		}
		list = append(list, s)
	}
	f.seen[s.Device] = list
	close(f.changed)
	f.changed = make(chan struct{})
}

// noteOther notes that dev, not the wanted device, announced itself
// (bounded: the device noted longest ago is forgotten first).
func (f *Finder) noteOther(dev identity.DeviceID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.others[dev]; !ok && len(f.others) >= MaxDevices {
		var oldest identity.DeviceID
		var at time.Time
		for d, t := range f.others {
			if at.IsZero() || t.Before(at) {
				oldest, at = d, t
			}
		}
		delete(f.others, oldest)
	}
	f.others[dev] = time.Now()
}

// evictDevice forgets the device heard from longest ago; f.mu held.
func (f *Finder) evictDevice() {
	var victim identity.DeviceID
	var last time.Time
	first := true
	for id, list := range f.seen {
		newest := list[0].Received
		for _, s := range list[1:] {
			if s.Received.After(newest) {
				newest = s.Received
			}
		}
		if first || newest.Before(last) {
			victim, last, first = id, newest, false
		}
	}
	delete(f.seen, victim)
}

// Newest returns, of the sightings of id received at or after since, the
// one the tracker made last (an old announcement replayed later loses to
// a newer one).
func (f *Finder) Newest(id identity.DeviceID, since time.Time) (Sighting, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var best Sighting
	ok := false
	for _, s := range f.seen[id] {
		if s.Received.Before(since) {
			continue
		}
		if !ok || s.Made.After(best.Made) {
			best, ok = s, true
		}
	}
	return best, ok
}

// Others returns the devices other than id that announced themselves: a
// tracker the user may have meant (one whose state was reset has a new ID).
// With FinderConfig.Want their announcements were not verified.
func (f *Finder) Others(id identity.DeviceID) []identity.DeviceID {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []identity.DeviceID
	for d := range f.seen {
		if d != id {
			out = append(out, d)
		}
	}
	for d := range f.others {
		if _, dup := f.seen[d]; !dup && d != id {
			out = append(out, d)
		}
	}
	return out
}

// Find asks the LAN for id and waits for an announcement of it received
// at or after since, querying again every QueryEvery; it returns the
// newest (Newest), or ctx's error, or ErrUnavailable when the port could
// not be bound.
func (f *Finder) Find(ctx context.Context, id identity.DeviceID, since time.Time) (Sighting, error) {
	select {
	case <-f.ready:
	case <-ctx.Done():
		return Sighting{}, ctx.Err()
	}
	f.mu.Lock()
	conn, err := f.conn, f.err
	f.mu.Unlock()
	if err != nil {
		return Sighting{}, err
	}
	query := EncodeQuery(id)
	t := time.NewTicker(f.cfg.QueryEvery)
	defer t.Stop()
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if s, ok := f.Newest(id, since); ok {
			return s, nil
		}
		for _, tg := range f.cfg.Targets() {
			_, _ = conn.WriteToUDPAddrPort(query, tg.Dest) // a network without a route is simply not asked
		}
		for again := false; !again; {
			select {
			case <-ctx.Done():
				return Sighting{}, ctx.Err()
			case <-t.C:
				again = true
			case <-changed:
				if s, ok := f.Newest(id, since); ok {
					return s, nil
				}
				f.mu.Lock()
				changed = f.changed
				f.mu.Unlock()
			}
		}
	}
}
