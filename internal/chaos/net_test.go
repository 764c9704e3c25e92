package chaos

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The LAN tests need root (they skip otherwise) and take about a second
// together: every test makes its own LAN of two or three namespaces.

func newTestLAN(t *testing.T, hosts ...string) *LAN {
	t.Helper()
	if err := LANAvailable(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := NewLAN(ctx, LANConfig{Hosts: hosts, Seed: 42, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if errors.Is(err, ErrNoNamespaces) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("NewLAN: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if left := namespacesWithPrefix(t, l.prefix); len(left) > 0 {
			t.Errorf("namespaces left after Close: %v", left)
		}
	})
	return l
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func namespacesWithPrefix(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, _ := strings.Cut(line, " "); strings.HasPrefix(name, prefix) {
			found = append(found, name)
		}
	}
	return found
}

const lanTestPort = 7000

// lanListen opens a UDP socket on host h's address.
func lanListen(t *testing.T, l *LAN, h int) net.PacketConn {
	t.Helper()
	pc, err := l.ListenPacket(h, "udp4", netip.AddrPortFrom(l.Hosts()[h].IP, lanTestPort).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// lanReceived collects numbered datagrams (a big-endian uint32 each) and
// their senders until the socket is closed.
type lanReceived struct {
	mu    sync.Mutex
	seqs  []uint32
	froms []netip.Addr
	done  chan struct{}
}

func lanCollect(pc net.PacketConn) *lanReceived {
	r := &lanReceived{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 4 {
				continue
			}
			r.mu.Lock()
			r.seqs = append(r.seqs, binary.BigEndian.Uint32(buf[:4]))
			r.froms = append(r.froms, from.(*net.UDPAddr).AddrPort().Addr().Unmap())
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *lanReceived) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seqs)
}

func (r *lanReceived) snapshot() ([]uint32, []netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint32(nil), r.seqs...), append([]netip.Addr(nil), r.froms...)
}

// lanSend sends n numbered datagrams from pc to host to, at most 32 ahead of
// the forwarder's decisions (and, with r, of r's count), so that no queue
// on the way overflows even on a loaded machine.
func lanSend(t *testing.T, l *LAN, pc net.PacketConn, to, n int, r *lanReceived) {
	t.Helper()
	decided := func(s NetStats) uint64 { return s.Forwarded - s.Duplicated + s.Lost + s.Cut }
	s0 := l.Stats()
	r0 := 0
	if r != nil {
		r0 = r.count()
	}
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Hosts()[to].IP, lanTestPort))
	buf := make([]byte, 64)
	for i := range n {
		binary.BigEndian.PutUint32(buf, uint32(i))
		if _, err := pc.WriteTo(buf, dst); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%32 != 31 && i != n-1 {
			continue
		}
		lanWait(t, "the forwarder and the receiver to catch up", func() bool {
			s := l.Stats()
			return decided(s)-decided(s0) >= uint64(i+1) &&
				(r == nil || uint64(r.count()-r0) >= s.Forwarded-s0.Forwarded)
		})
	}
}

// lanWait polls cond until it holds or a generous deadline passes.
func lanWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLANEchoKeepsAddresses(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	pa, pb := lanListen(t, l, 0), lanListen(t, l, 1)
	go func() { // echo server on b
		buf := make([]byte, 2048)
		for {
			n, from, err := pb.ReadFrom(buf)
			if err != nil {
				return
			}
			reply := append([]byte(from.String()+" "), buf[:n]...)
			if _, err := pb.WriteTo(reply, from); err != nil {
				return
			}
		}
	}()
	big := make([]byte, 1452) // quic-go's largest datagram
	big[0] = 'x'
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Hosts()[1].IP, lanTestPort))
	if err := pa.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := pa.WriteTo(big, dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, from, err := pa.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no echo: %v", err)
	}
	if got := from.(*net.UDPAddr).AddrPort().Addr(); got != l.Hosts()[1].IP {
		t.Errorf("echo came from %v, want %v", got, l.Hosts()[1].IP)
	}
	seen, _, _ := strings.Cut(string(buf[:n]), " ")
	want := netip.AddrPortFrom(l.Hosts()[0].IP, lanTestPort).String()
	if seen != want {
		t.Errorf("receiver saw sender %q, want %q (addresses rewritten?)", seen, want)
	}
	if got := n - len(seen) - 1; got != len(big) {
		t.Errorf("echoed %d bytes, want %d", got, len(big))
	}
}

func TestLANCommandRunsInHost(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	nsenter := l.nsenter
	for _, via := range []string{"nsenter", "ip netns exec"} {
		if via == "nsenter" && nsenter == "" {
			continue
		}
		if via == "ip netns exec" {
			l.nsenter = "" // the fallback where nsenter is missing
		}
		out, err := l.Command(1, "ip", "-4", "-o", "addr", "show", "dev", "lan0").CombinedOutput()
		if err != nil {
			t.Fatalf("via %s: %v: %s", via, err, out)
		}
		if !strings.Contains(string(out), l.Hosts()[1].IP.String()+"/24") {
			t.Errorf("via %s: host b's lan0: %s; want address %v", via, out, l.Hosts()[1].IP)
		}
		out, err = l.Command(0, "ip", "-o", "link", "show", "dev", "lo").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "UP") {
			t.Errorf("via %s: loopback of host a not up: %v: %s", via, err, out)
		}
	}
}

// TestLANCommandIsTheProcess: the command's process is the program itself
// (signals reach it), and it shares the suite's mount namespace.
func TestLANCommandIsTheProcess(t *testing.T) {
	l := newTestLAN(t, "a")
	cmd := l.Command(0, "sh", "-c", "echo $$; readlink /proc/self/ns/mnt")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || fields[0] != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("command printed %q; want its own pid %d first", out, cmd.Process.Pid)
	}
	if own, _ := os.Readlink("/proc/self/ns/mnt"); l.nsenter != "" && fields[1] != own {
		t.Errorf("command's mount namespace %s, want the suite's %s", fields[1], own)
	}
}

func TestLANPartitionAndHeal(t *testing.T) {
	l := newTestLAN(t, "a", "b", "c")
	pa, rb, rc := lanListen(t, l, 0), lanCollect(lanListen(t, l, 1)), lanCollect(lanListen(t, l, 2))
	if err := l.Partition([]int{0}, []int{1}); err != nil { // c in no group
		t.Fatal(err)
	}
	lanSend(t, l, pa, 1, 5, nil)
	lanSend(t, l, pa, 2, 5, rc)
	lanWait(t, "5 packets cut", func() bool { return l.Stats().Cut >= 5 })
	lanWait(t, "c to receive 5", func() bool { return rc.count() == 5 })
	if n := rb.count(); n != 0 {
		t.Fatalf("b received %d packets across the partition", n)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	lanSend(t, l, pa, 1, 5, rb)
	lanWait(t, "b to receive 5 after Heal", func() bool { return rb.count() == 5 })
}

func TestLANLossDropsAboutHalf(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	pa, rb := lanListen(t, l, 0), lanCollect(lanListen(t, l, 1))
	if err := l.Impair(Impairment{Loss: 0.5}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	lanSend(t, l, pa, 1, n, rb) // returns once every packet is decided and received
	s := l.Stats()
	if s.Lost < 400 || s.Lost > 600 || s.Lost+s.Forwarded != n { // seeded: the same count every run
		t.Errorf("lost %d and forwarded %d of %d, want about half lost", s.Lost, s.Forwarded, n)
	}
	if got := rb.count(); got != int(s.Forwarded) {
		t.Errorf("received %d, forwarded %d", got, s.Forwarded)
	}
	t.Logf("lost %d, received %d of %d", s.Lost, rb.count(), n)
}

func TestLANDuplication(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	pa, rb := lanListen(t, l, 0), lanCollect(lanListen(t, l, 1))
	if err := l.Impair(Impairment{Dup: 0.3}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	lanSend(t, l, pa, 1, n, rb)
	lanWait(t, "originals and copies", func() bool { return rb.count() >= n+int(l.Stats().Duplicated) })
	seqs, _ := rb.snapshot()
	times := map[uint32]int{}
	for _, s := range seqs {
		times[s]++
	}
	dups := 0
	for _, c := range times {
		dups += c - 1
	}
	if dups == 0 || uint64(dups) != l.Stats().Duplicated || len(times) != n {
		t.Errorf("%d distinct, %d duplicates; forwarder duplicated %d", len(times), dups, l.Stats().Duplicated)
	}
}

func TestLANDelay(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	pa, pb := lanListen(t, l, 0), lanListen(t, l, 1)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pb.ReadFrom(buf)
			if err != nil {
				return
			}
			pb.WriteTo(buf[:n], from)
		}
	}()
	rtt := func() time.Duration {
		dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Hosts()[1].IP, lanTestPort))
		start := time.Now()
		pa.WriteTo([]byte("ping"), dst)
		pa.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 64)
		if _, _, err := pa.ReadFrom(buf); err != nil {
			t.Fatalf("no echo: %v", err)
		}
		return time.Since(start)
	}
	before := rtt()
	const delay = 40 * time.Millisecond
	if err := l.Impair(Impairment{Delay: delay, Jitter: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	after := rtt()
	t.Logf("round trip %v plain, %v with %v delay each way", before, after, delay)
	if after < 2*delay { // timers never fire early: a safe lower bound
		t.Errorf("round trip %v with a delay of %v each way", after, delay)
	}
}

func TestLANReorder(t *testing.T) {
	l := newTestLAN(t, "a", "b")
	pa, rb := lanListen(t, l, 0), lanCollect(lanListen(t, l, 1))
	if err := l.Impair(Impairment{Reorder: 0.2}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	lanSend(t, l, pa, 1, n, rb)
	lanWait(t, "every packet", func() bool { return rb.count() >= n })
	seqs, _ := rb.snapshot()
	inversions := 0
	for i := 1; i < len(seqs); i++ {
		if seqs[i] < seqs[i-1] {
			inversions++
		}
	}
	t.Logf("%d held back, %d inversions seen", l.Stats().Reordered, inversions)
	if l.Stats().Reordered == 0 || inversions == 0 {
		t.Errorf("no reordering: %d held back, %d inversions", l.Stats().Reordered, inversions)
	}
}

// TestLANUnreachableAndHeal: routes make sends across the cut fail at once
// (no packet reaches the forwarder), others pass, and Heal removes them.
func TestLANUnreachableAndHeal(t *testing.T) {
	l := newTestLAN(t, "a", "b", "c")
	pa, rb, rc := lanListen(t, l, 0), lanCollect(lanListen(t, l, 1)), lanCollect(lanListen(t, l, 2))
	if err := l.Unreachable([]int{0}, []int{1}); err != nil { // c in no group
		t.Fatal(err)
	}
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.Hosts()[1].IP, lanTestPort))
	if _, err := pa.WriteTo([]byte("across the cut"), dst); err == nil {
		t.Fatal("a send to b across an unreachable route succeeded")
	}
	lanSend(t, l, pa, 2, 5, rc)
	if n := rb.count(); n != 0 {
		t.Fatalf("b received %d packets across the cut", n)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	lanSend(t, l, pa, 1, 5, rb)
	lanWait(t, "b to receive 5 after Heal", func() bool { return rb.count() == 5 })
}
