package chaos

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// The forwarder tests need no root: hosts are in-memory ports.

// memPort is a host's end of the forwarder in memory: packets pushed with
// send are read by the forwarder; packets the forwarder writes are kept.
type memPort struct {
	in   chan []byte
	done chan struct{}
	once sync.Once

	mu  sync.Mutex
	got [][]byte
}

func newMemPort() *memPort {
	return &memPort{in: make(chan []byte), done: make(chan struct{})}
}

func (p *memPort) Read(b []byte) (int, error) {
	select {
	case pkt := <-p.in:
		return copy(b, pkt), nil
	case <-p.done:
		return 0, io.EOF
	}
}

func (p *memPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, append([]byte(nil), b...))
	return len(b), nil
}

func (p *memPort) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *memPort) received() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// memForwarder starts a forwarder between n in-memory hosts.
func memForwarder(t *testing.T, n int, seed int64) (*forwarder, []*memPort) {
	t.Helper()
	mem := make([]*memPort, n)
	ports := make([]packetPort, n)
	addrs := make([]netip.Addr, n)
	for i := range mem {
		mem[i] = newMemPort()
		ports[i] = mem[i]
		addrs[i] = lanAddr(i)
	}
	f := newForwarder(ports, addrs, seed, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { f.close() })
	return f, mem
}

// ipv4Packet is a minimal IPv4 header from host src to host dst followed
// by seq.
func ipv4Packet(src, dst int, seq uint32) []byte {
	p := make([]byte, 24)
	p[0] = 0x45
	s, d := lanAddr(src).As4(), lanAddr(dst).As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint32(p[20:], seq)
	return p
}

func seqsOf(pkts [][]byte) []uint32 {
	var out []uint32
	for _, p := range pkts {
		out = append(out, binary.BigEndian.Uint32(p[20:]))
	}
	return out
}

// fwdRun sends n packets from host 0 to host 1 under im and returns the
// sequence numbers host 1 received once every packet is decided.
func fwdRun(t *testing.T, seed int64, im Impairment, n int) ([]uint32, NetStats) {
	t.Helper()
	f, mem := memForwarder(t, 2, seed)
	f.impair(im)
	for i := range n {
		mem[0].in <- ipv4Packet(0, 1, uint32(i))
	}
	lanWait(t, "every packet decided", func() bool {
		s := f.stats.snapshot()
		return s.Lost+s.Forwarded >= uint64(n)+s.Duplicated
	})
	return seqsOf(mem[1].received()), f.stats.snapshot()
}

func TestForwarderSeededFate(t *testing.T) {
	im := Impairment{Loss: 0.3, Dup: 0.2}
	a, sa := fwdRun(t, 7, im, 500)
	b, sb := fwdRun(t, 7, im, 500)
	c, _ := fwdRun(t, 8, im, 500)
	if !slices.Equal(a, b) || sa != sb {
		t.Errorf("same seed, different fates: %v vs %v", sa, sb)
	}
	if slices.Equal(a, c) {
		t.Error("seeds 7 and 8 gave the same fates")
	}
	if sa.Lost < 100 || sa.Lost > 200 || sa.Duplicated < 50 || sa.Duplicated > 150 {
		t.Errorf("stats %+v; want about 150 lost and 70 duplicated of 500", sa)
	}
}

func TestForwarderPlainKeepsOrderAndBytes(t *testing.T) {
	f, mem := memForwarder(t, 3, 1)
	want := ipv4Packet(2, 1, 9)
	for i := range 100 {
		mem[0].in <- ipv4Packet(0, 1, uint32(i))
	}
	lanWait(t, "100 packets", func() bool { return len(mem[1].received()) == 100 })
	mem[2].in <- want
	lanWait(t, "101 packets", func() bool { return len(mem[1].received()) == 101 })
	got := mem[1].received()
	if !slices.IsSorted(seqsOf(got[:100])) {
		t.Errorf("plain forwarding reordered: %v", seqsOf(got))
	}
	if !slices.Equal(got[100], want) {
		t.Errorf("packet changed on the way: %x, want %x", got[100], want)
	}
	if s := f.stats.snapshot(); s != (NetStats{Forwarded: 101}) {
		t.Errorf("stats %+v", s)
	}
}

func TestForwarderCutsDelayedPackets(t *testing.T) {
	f, mem := memForwarder(t, 2, 1)
	f.impair(Impairment{Delay: time.Hour})
	mem[0].in <- ipv4Packet(0, 1, 1)
	lanWait(t, "the packet queued", func() bool { return f.stats.snapshot().Delayed == 1 })
	f.partition([]int{0, 1})
	f.queue.mu.Lock()
	f.queue.items[0].due = time.Now() // fall due at once
	f.queue.mu.Unlock()
	f.queue.push(time.Now(), 0, 1, ipv4Packet(0, 1, 2)) // wakes the queue
	lanWait(t, "both cut", func() bool { return f.stats.snapshot().Cut == 2 })
	if got := mem[1].received(); len(got) != 0 {
		t.Errorf("%d packets crossed the partition", len(got))
	}
}

func TestForwarderDropsUnroutable(t *testing.T) {
	f, mem := memForwarder(t, 2, 1)
	v6 := make([]byte, 40)
	v6[0] = 0x60
	for _, p := range [][]byte{{0x45}, v6, ipv4Packet(0, 5, 1), ipv4Packet(0, 0, 1)} {
		mem[0].in <- p
	}
	lanWait(t, "4 unroutable", func() bool { return f.stats.snapshot().Unroutable == 4 })
	if got := mem[1].received(); len(got) != 0 {
		t.Errorf("host 1 got %d packets", len(got))
	}
}

func TestForwarderReorderHoldsBack(t *testing.T) {
	seqs, s := fwdRun(t, 3, Impairment{Reorder: 0.2}, 200)
	if len(seqs) != 200 || s.Reordered == 0 {
		t.Fatalf("%d received, %d held back", len(seqs), s.Reordered)
	}
	if slices.IsSorted(seqs) {
		t.Error("received in order")
	}
}

// FuzzForwarderRoute: any bytes from a host are forwarded untouched or
// dropped, never a crash.
func FuzzForwarderRoute(f *testing.F) {
	f.Add(ipv4Packet(0, 1, 1))
	f.Add([]byte{0x45, 0, 0})
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		fw, mem := memForwarder(t, 2, 1)
		fw.route(0, pkt)
		if got := mem[1].received(); len(got) > 0 && !slices.Equal(got[0], pkt) {
			t.Errorf("forwarded %x, sent %x", got[0], pkt)
		}
	})
}
