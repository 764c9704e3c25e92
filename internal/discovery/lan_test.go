package discovery

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// freeUDPPorts returns n distinct free UDP ports: held together while chosen, so
// that two roles never get the same one (the discovery sockets share
// ports, SO_REUSEADDR, and a unicast datagram reaches only one of them).
func freeUDPPorts(t *testing.T, n int) []int {
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

func loopTargets(port int) func() []Target {
	return func() []Target {
		return []Target{{Dest: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), Local: netip.MustParseAddr("127.0.0.1")}}
	}
}

// run starts fn in a goroutine the test owns: cancelled and waited for at cleanup.
func run(t *testing.T, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fn(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// A peer's Find is answered at once: the tracker announces every hour but
// hears the query.
func TestFindAsksAndTrackerAnswers(t *testing.T) {
	ports := freeUDPPorts(t, 2)
	peerPort, trackerPort := ports[0], ports[1]
	key := testKey(t, 1)
	id := identity.NewDeviceID(key.Public().(ed25519.PublicKey))
	f := NewFinder(FinderConfig{DiscoveryPort: peerPort, Targets: loopTargets(trackerPort), QueryEvery: 100 * time.Millisecond})
	run(t, f.Run)
	a, err := NewAnnouncer(AnnouncerConfig{Key: key, Port: 7000, DiscoveryPort: trackerPort, Interval: time.Hour, Targets: loopTargets(peerPort)})
	if err != nil {
		t.Fatal(err)
	}
	// the first announcement (at start) may come before the finder binds:
	// a later Find still gets one, by asking
	run(t, a.Run)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	since := time.Now()
	s, err := f.Find(ctx, id, since)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != netip.MustParseAddrPort("127.0.0.1:7000") || s.Device != id {
		t.Fatalf("found %+v", s)
	}
	// a second Find after the first: answered again (AnswerGap apart)
	s2, err := f.Find(ctx, id, time.Now())
	if err != nil || !s2.Received.After(s.Received) {
		t.Fatalf("second find: %+v, %v", s2, err)
	}
}

// Spoofed announcements are ignored: another device's (signed by its own
// key), and one claiming the tracker's device with another key. Find still
// finds only the real tracker.
// With Want set (as a peer runs it), the other device's announcement is
// only noted, never verified or kept.
func TestSpoofedAnnouncementsIgnored(t *testing.T) {
	for _, want := range []bool{false, true} {
		t.Run(fmt.Sprintf("want=%v", want), func(t *testing.T) { testSpoofed(t, want) })
	}
}

func testSpoofed(t *testing.T, want bool) {
	peerPort := freeUDPPorts(t, 1)[0]
	key, attacker := testKey(t, 1), testKey(t, 66)
	id := identity.NewDeviceID(key.Public().(ed25519.PublicKey))
	cfg := FinderConfig{DiscoveryPort: peerPort, Targets: func() []Target { return nil }, QueryEvery: 50 * time.Millisecond}
	if want {
		cfg.Want = id
	}
	f := NewFinder(cfg)
	run(t, f.Run)
	send, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: peerPort})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	evil := netip.MustParseAddrPort("127.0.0.1:6666")
	own, err := EncodeAnnouncement(attacker, evil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	claim, err := EncodeAnnouncement(key, evil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	body := claim[:len(claim)-ed25519.SignatureSize]
	forged := append(append([]byte(nil), body...), ed25519.Sign(attacker, signed(body))...)
	real, err := EncodeAnnouncement(key, netip.MustParseAddrPort("127.0.0.1:7000"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	attackerID := identity.NewDeviceID(attacker.Public().(ed25519.PublicKey))
	// the attacker's own announcement is heard (it is a device), but is not the tracker
	for len(f.Others(id)) == 0 {
		// errors ignored: a write before the finder bound its port is refused
		_, _ = send.Write(own)
		_, _ = send.Write(forged)
		if ctx.Err() != nil {
			t.Fatal("the attacker's own announcement never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if others := f.Others(id); len(others) != 1 || others[0] != attackerID {
		t.Fatalf("others = %v", others)
	}
	if s, ok := f.Newest(id, time.Time{}); ok {
		t.Fatalf("forged announcement taken: %+v", s)
	}
	f.mu.Lock()
	_, kept := f.seen[attackerID]
	f.mu.Unlock()
	if kept == want {
		t.Fatalf("the attacker's own announcement kept: %v (want set: %v)", kept, want)
	}
	for _, ok := f.Newest(id, time.Time{}); !ok; _, ok = f.Newest(id, time.Time{}) {
		_, _ = send.Write(real)
		if ctx.Err() != nil {
			t.Fatal("the real announcement never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := f.Find(ctx, id, time.Time{})
	if err != nil || s.Addr != netip.MustParseAddrPort("127.0.0.1:7000") {
		t.Fatalf("found %+v, %v", s, err)
	}
}

// A finder keeps at most MaxDevices devices and MaxAddrsPerDevice
// addresses each, and prefers the newest-made announcement of a device.
func TestFinderBounds(t *testing.T) {
	f := NewFinder(FinderConfig{})
	now := time.Now()
	for i := range MaxDevices + 10 {
		f.record(Sighting{Device: identity.DeviceID{byte(i), 1}, Addr: netip.MustParseAddrPort("10.0.0.1:1"), Received: now.Add(time.Duration(i))})
	}
	if len(f.seen) != MaxDevices {
		t.Fatalf("%d devices kept", len(f.seen))
	}
	if _, ok := f.seen[identity.DeviceID{0, 1}]; ok {
		t.Fatal("oldest device not evicted")
	}
	dev := identity.DeviceID{200}
	for i := range MaxAddrsPerDevice + 5 {
		f.record(Sighting{Device: dev, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 7000),
			Made: now.Add(-time.Duration(i) * time.Minute), Received: now.Add(time.Duration(i))})
	}
	if n := len(f.seen[dev]); n != MaxAddrsPerDevice {
		t.Fatalf("%d addresses kept", n)
	}
	s, ok := f.Newest(dev, time.Time{})
	if !ok || s.Addr.Addr() != netip.AddrFrom4([4]byte{10, 0, 0, 5}) {
		t.Fatalf("newest = %+v (want the newest-made of those kept, 10.0.0.5)", s)
	}
}

// A port that cannot be bound: Run returns, Find fails with ErrUnavailable.
func TestFinderUnavailable(t *testing.T) {
	f := NewFinder(FinderConfig{DiscoveryPort: -1})
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := f.Find(context.Background(), identity.DeviceID{1}, time.Time{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestTargetOf(t *testing.T) {
	tests := []struct {
		cidr string
		want string // "" = no target
	}{
		{"10.1.2.7/24", "10.1.2.255:21010"},
		{"192.168.0.9/16", "192.168.255.255:21010"},
		{"10.0.0.1/31", ""},
		{"127.0.0.1/8", ""},
		{"fd00::1/64", ""},
	}
	for _, tt := range tests {
		ip, ipn, err := net.ParseCIDR(tt.cidr)
		if err != nil {
			t.Fatal(err)
		}
		ipn.IP = ip
		if ip4 := ip.To4(); ip4 != nil {
			ipn.IP = ip4
		}
		got, ok := targetOf(ipn, DefaultPort)
		if (tt.want == "") == ok || (ok && got.Dest.String() != tt.want) {
			t.Errorf("%s: target %v %v, want %q", tt.cidr, got, ok, tt.want)
		}
	}
}
