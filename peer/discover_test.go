package peer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/discovery"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// These tests run LAN discovery on loopback: the tracker's announcer and
// the peer's finder send to each other's discovery port on 127.0.0.1
// instead of broadcasting (cmd/dartsync/e2e's TestDiscovery* broadcast in
// network namespaces).

// freeUDPs returns n distinct free UDP ports: held together while chosen, so
// that two roles never get the same one (the discovery sockets share
// ports, SO_REUSEADDR, and a unicast datagram reaches only one of them).
func freeUDPs(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ports[i] = c.LocalAddr().(*net.UDPAddr).Port
	}
	return ports
}

func loopback(port int) func() []discovery.Target {
	lo := netip.MustParseAddr("127.0.0.1")
	return func() []discovery.Target {
		return []discovery.Target{{Dest: netip.AddrPortFrom(lo, uint16(port)), Local: lo}}
	}
}

func trackerKey(t *testing.T, n *testNet) ed25519.PrivateKey {
	t.Helper()
	id, err := identity.LoadOrCreate(n.cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	return id.Cert.PrivateKey.(ed25519.PrivateKey)
}

// announce runs n's tracker's announcer until the returned stop (or the
// end of the test): it sends to 127.0.0.1:peerPort and hears queries on
// trackerPort.
func announce(t *testing.T, n *testNet, trackerPort, peerPort int) (stop func()) {
	t.Helper()
	return announceEvery(t, n, trackerPort, peerPort, time.Hour)
}

// announceEvery is announce with unprompted announcements every interval.
func announceEvery(t *testing.T, n *testNet, trackerPort, peerPort int, interval time.Duration) (stop func()) {
	t.Helper()
	a, err := discovery.NewAnnouncer(discovery.AnnouncerConfig{
		Key: trackerKey(t, n), Port: int(netip.MustParseAddrPort(n.srv.Addr().String()).Port()), DiscoveryPort: trackerPort,
		Interval: interval, Targets: loopback(peerPort), Log: testLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// startByToken starts a peer that has only n's token: no tracker address.
func startByToken(t *testing.T, n *testNet, trackerPort, peerPort int) *testPeer {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{
		Root: t.TempDir(), StateDir: state, Identity: id,
		TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		LANDiscovery: true, DiscoveryPort: peerPort, DiscoveryTargets: loopback(trackerPort),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	t.Cleanup(p.stop)
	return p
}

func membership(t *testing.T, p *testPeer) (addr string, id identity.DeviceID) {
	t.Helper()
	m, ok, err := p.d.folders[0].idx.Membership()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "", identity.DeviceID{}
	}
	return m.Addr, m.Tracker
}

// TestJoinByTokenIgnoresSpoofedAnnouncements: a peer with a token and no
// address finds the tracker the token names on the LAN, although an
// attacker's tracker announces itself first and also claims the real
// tracker's device ID (signed with its own key), both pointing to the
// attacker. The peer joins the real tracker, never the attacker's; and an
// address that leads to the attacker anyway is refused by the pin.
func TestJoinByTokenIgnoresSpoofedAnnouncements(t *testing.T) {
	n, evil := newTestNet(t), newTestNet(t)
	ports := freeUDPs(t, 2)
	peerPort, trackerPort := ports[0], ports[1]
	evilAddr := netip.MustParseAddrPort(evil.srv.Addr().String())
	evilKey := trackerKey(t, evil)
	own, err := discovery.EncodeAnnouncement(evilKey, evilAddr, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	claim, err := discovery.EncodeAnnouncement(trackerKey(t, n), evilAddr, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	body := claim[:len(claim)-ed25519.SignatureSize]
	forged := append(append([]byte(nil), body...),
		ed25519.Sign(evilKey, append([]byte("dartsync LAN discovery announcement v1\x00"), body...))...)

	p := startByToken(t, n, trackerPort, peerPort)
	spoofer, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: peerPort})
	if err != nil {
		t.Fatal(err)
	}
	defer spoofer.Close()
	waitFor(t, "the attacker's announcement heard", func() bool {
		_, _ = spoofer.Write(own)
		_, _ = spoofer.Write(forged)
		return len(p.d.finder.Others(n.token.Tracker)) > 0
	})
	time.Sleep(200 * time.Millisecond) // the peer keeps looking: nothing it heard is its tracker
	if addr, _ := membership(t, p); addr != "" {
		t.Fatalf("joined %s before the tracker announced itself", addr)
	}
	stopAnnounce := announce(t, n, trackerPort, peerPort)
	p.registered(t)
	addr, id := membership(t, p)
	if addr != n.srv.Addr().String() || id != n.token.Tracker {
		t.Fatalf("remembered %s %s, want %s %s", addr, id.Short(), n.srv.Addr(), n.token.Tracker.Short())
	}
	for _, d := range evil.srv.Overview().Devices() {
		if d.ID == p.d.self {
			t.Fatal("the peer joined the attacker's tracker")
		}
	}

	// the pin: a peer told the attacker's address for the real tracker stops
	// with a wrong-identity error and joins nothing; with discovery on, a
	// wrong identity is an error for the user, not a reason to look
	// elsewhere. (Were the real tracker answering on the LAN when the peer
	// starts, the peer would dial it there instead: discover.go, lookAtStart.)
	p.stop() // its discovery port is the next peer's
	stopAnnounce()
	state := filepath.Join(t.TempDir(), "state")
	id2, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{
		Root: t.TempDir(), StateDir: state, Identity: id2, TrackerAddr: evilAddr.String(),
		TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		LANDiscovery: true, DiscoveryPort: peerPort, DiscoveryTargets: loopback(trackerPort),
		ListenAddr: "127.0.0.1:0", Rescan: -1, Log: testLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Run(ctx); !errors.Is(err, tracker.ErrTrackerIdentity) {
		t.Fatalf("Run at the attacker's address = %v, want ErrTrackerIdentity", err)
	}
	for _, dev := range evil.srv.Overview().Devices() {
		if dev.ID == id2.ID {
			t.Fatal("the pinned peer joined the attacker's tracker")
		}
	}
}

// TestTrackerMovedIsFoundAgain: the tracker restarts on another port; the
// peer finds it on the LAN, remembers the new address, and a restarted
// peer dials it there.
func TestTrackerMovedIsFoundAgain(t *testing.T) {
	n := newTestNet(t)
	ports := freeUDPs(t, 2)
	peerPort, trackerPort := ports[0], ports[1]
	stopAnnounce := announce(t, n, trackerPort, peerPort)
	p := startByToken(t, n, trackerPort, peerPort)
	p.registered(t)
	old, _ := membership(t, p)
	if old != n.srv.Addr().String() {
		t.Fatalf("remembered %q, want %s", old, n.srv.Addr())
	}

	stopAnnounce()
	n.stopTracker()
	n.cfg.Listen = "127.0.0.1:0" // another port
	n.startTracker()
	moved := n.srv.Addr().String()
	if moved == old {
		t.Fatalf("tracker restarted at its old address %s", old)
	}
	announce(t, n, trackerPort, peerPort)
	waitFor(t, "the new address remembered", func() bool {
		addr, _ := membership(t, p)
		return addr == moved
	})
	p.stop()
	q := n.restart(t, p)
	if got := q.d.tracker.current(); got != moved {
		t.Fatalf("restarted peer dials %q, want %s", got, moved)
	}
}

// TestResolverNamesOtherTrackers: a peer whose tracker does not answer on
// the LAN while another one does (a tracker whose state was reset has a
// new ID) says so, naming the other one, and keeps looking; it takes its
// own tracker's address once that one announces itself.
func TestResolverNamesOtherTrackers(t *testing.T) {
	n, other := newTestNet(t), newTestNet(t)
	ports := freeUDPs(t, 3)
	peerPort, trackerPort, otherPort := ports[0], ports[1], ports[2]
	var logs syncBuffer
	f := discovery.NewFinder(discovery.FinderConfig{DiscoveryPort: peerPort, Targets: loopback(otherPort),
		QueryEvery: 50 * time.Millisecond, Want: n.token.Tracker})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	// it answers no query for another device: it is heard by its own announcements
	announceEvery(t, other, otherPort, peerPort, 100*time.Millisecond)
	waitFor(t, "the other tracker heard", func() bool { return len(f.Others(n.token.Tracker)) > 0 })
	r := newTrackerResolver("", n.token.Tracker, f, peerPort, slog.New(slog.NewTextHandler(&logs, nil)))
	r.hintAfter = 200 * time.Millisecond
	type result struct {
		addr string
		err  error
	}
	got := make(chan result, 1)
	go func() { a, err := r.resolve(ctx, nil); got <- result{a, err} }()
	waitFor(t, "the hint", func() bool {
		return strings.Contains(logs.String(), "other_trackers=["+other.token.Tracker.String()+"]")
	})
	select {
	case res := <-got:
		t.Fatalf("resolved %q, %v without the tracker", res.addr, res.err)
	default:
	}
	announce(t, n, trackerPort, peerPort)
	res := <-got
	if res.err != nil || res.addr != n.srv.Addr().String() {
		t.Fatalf("resolved %q, %v; want %s", res.addr, res.err, n.srv.Addr())
	}
}

func TestSameAddr(t *testing.T) {
	ap := netip.MustParseAddrPort("127.0.0.1:7000")
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:7000", true},
		{"[::ffff:127.0.0.1]:7000", true},
		{"127.0.0.1:7001", false},
		{"10.0.0.1:7000", false},
		{"no port", false},
	}
	for _, tt := range tests {
		if got := sameAddr(context.Background(), tt.addr, ap); got != tt.want {
			t.Errorf("sameAddr(%q, %v) = %v, want %v", tt.addr, ap, got, tt.want)
		}
	}
}
