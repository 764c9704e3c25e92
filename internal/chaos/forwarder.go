package chaos

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// packetPort is one host's end of the forwarder: each Read returns one IP
// packet the host sent, each Write hands one IP packet to the host. Close
// makes a blocked Read return. A TUN device is one (net_tun.go); tests use
// in-memory ports.
type packetPort io.ReadWriteCloser

// NetStats counts what the forwarder did since the LAN was made. Lost, Cut,
// Duplicated and Reordered count packets the faults touched; Unroutable
// counts packets to an address no host has (for instance IPv6 neighbour
// discovery), which are dropped.
type NetStats struct {
	Forwarded   uint64 // packets written to a destination host (duplicates included)
	Lost        uint64 // dropped by Impairment.Loss
	Cut         uint64 // dropped by a partition (at arrival or while delayed)
	Duplicated  uint64 // extra copies sent by Impairment.Dup
	Reordered   uint64 // held back by Impairment.Reorder
	Delayed     uint64 // copies that went through the timer queue
	Unroutable  uint64 // not IPv4 or to an unknown address
	WriteErrors uint64 // writes to a destination host that failed
}

// netCounters is NetStats with atomic fields.
type netCounters struct {
	forwarded, lost, cut, duplicated, reordered, delayed, unroutable, writeErrors atomic.Uint64
}

func (c *netCounters) snapshot() NetStats {
	return NetStats{
		Forwarded:   c.forwarded.Load(),
		Lost:        c.lost.Load(),
		Cut:         c.cut.Load(),
		Duplicated:  c.duplicated.Load(),
		Reordered:   c.reordered.Load(),
		Delayed:     c.delayed.Load(),
		Unroutable:  c.unroutable.Load(),
		WriteErrors: c.writeErrors.Load(),
	}
}

// forwarder moves IP packets between host ports: one reader goroutine per
// port and one timer-queue goroutine, all owned by the forwarder and
// stopped by close. It never rewrites a packet: the destination host sees
// the sender's own address.
//
// Decisions are seeded: each source host has its own RNG (seed, host
// index), drawn in a fixed order per routable packet (loss, duplication,
// then jitter and reorder per copy), so the same packets from a host meet
// the same fate in every run with that seed. Delay, jitter and reorder
// holds go through one timer queue: copies leave when due, so jitter alone
// also reorders packets, as on a real network; with no delay at all a
// packet is written at once by its reader goroutine.
type forwarder struct {
	ports []packetPort
	addrs map[netip.Addr]int
	hold  time.Duration // extra delay of a reordered packet
	log   *slog.Logger

	mu    sync.Mutex // guards im, group, rngs; never held across a port write
	im    Impairment
	group []int // partition group per host; -1: in no group
	rngs  []*rand.Rand

	stats  netCounters
	queue  *timerQueue
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// newForwarder starts forwarding between ports; addrs[i] is the address of
// the host behind ports[i].
func newForwarder(ports []packetPort, addrs []netip.Addr, seed int64, hold time.Duration, log *slog.Logger) *forwarder {
	ctx, cancel := context.WithCancel(context.Background())
	f := &forwarder{
		ports:  ports,
		addrs:  make(map[netip.Addr]int, len(addrs)),
		hold:   hold,
		log:    log,
		group:  make([]int, len(ports)),
		rngs:   make([]*rand.Rand, len(ports)),
		cancel: cancel,
	}
	for i, a := range addrs {
		f.addrs[a] = i
	}
	for i := range ports {
		f.group[i] = -1
		f.rngs[i] = rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	}
	f.queue = newTimerQueue(f.deliver)
	f.wg.Add(1 + len(ports))
	go func() {
		defer f.wg.Done()
		f.queue.run(ctx)
	}()
	for i := range ports {
		go func() {
			defer f.wg.Done()
			f.readLoop(i)
		}()
	}
	return f
}

// readLoop forwards the packets host src sends until its port is closed.
func (f *forwarder) readLoop(src int) {
	buf := make([]byte, 65536)
	for {
		n, err := f.ports[src].Read(buf)
		if err != nil {
			if !f.closed.Load() {
				f.log.Warn("chaos forwarder: read failed; host cut off", "host", src, "err", err)
			}
			return
		}
		f.route(src, append([]byte(nil), buf[:n]...))
	}
}

// route decides the fate of one packet from host src and sends or
// schedules its copies.
func (f *forwarder) route(src int, pkt []byte) {
	dstAddr, ok := ipv4Dst(pkt)
	dst, known := f.addrs[dstAddr]
	if !ok || !known || dst == src {
		f.stats.unroutable.Add(1)
		return
	}
	var delays [2]time.Duration
	copies := 0
	f.mu.Lock()
	if f.cutLocked(src, dst) {
		f.mu.Unlock()
		f.stats.cut.Add(1)
		return
	}
	im, rng := f.im, f.rngs[src]
	lost := rng.Float64() < im.Loss
	dup := rng.Float64() < im.Dup
	if !lost {
		copies = 1
		if dup {
			copies = 2
		}
		for c := range copies {
			d := im.Delay
			if j := rng.Float64(); im.Jitter > 0 {
				d += time.Duration(j * float64(im.Jitter))
			}
			if rng.Float64() < im.Reorder {
				d += f.hold
				f.stats.reordered.Add(1)
			}
			delays[c] = d
		}
	}
	f.mu.Unlock()
	if lost {
		f.stats.lost.Add(1)
		return
	}
	if copies == 2 {
		f.stats.duplicated.Add(1)
	}
	now := time.Now()
	for c := range copies {
		if delays[c] <= 0 {
			f.write(dst, pkt)
			continue
		}
		f.stats.delayed.Add(1)
		f.queue.push(now.Add(delays[c]), src, dst, pkt)
	}
}

// deliver sends a packet that waited in the timer queue, unless a
// partition cut its link meanwhile.
func (f *forwarder) deliver(src, dst int, pkt []byte) {
	f.mu.Lock()
	cut := f.cutLocked(src, dst)
	f.mu.Unlock()
	if cut {
		f.stats.cut.Add(1)
		return
	}
	f.write(dst, pkt)
}

func (f *forwarder) write(dst int, pkt []byte) {
	if _, err := f.ports[dst].Write(pkt); err != nil {
		f.stats.writeErrors.Add(1)
		if !f.closed.Load() {
			f.log.Debug("chaos forwarder: write failed", "host", dst, "err", err)
		}
		return
	}
	f.stats.forwarded.Add(1)
}

func (f *forwarder) cutLocked(a, b int) bool {
	ga, gb := f.group[a], f.group[b]
	return ga >= 0 && gb >= 0 && ga != gb
}

// partition sets the groups (validated by the caller); nil heals.
func (f *forwarder) partition(group []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.group {
		f.group[i] = -1
		if group != nil {
			f.group[i] = group[i]
		}
	}
}

func (f *forwarder) impair(im Impairment) {
	f.mu.Lock()
	f.im = im
	f.mu.Unlock()
}

// close stops every goroutine and closes every port; packets still in the
// timer queue are dropped.
func (f *forwarder) close() error {
	f.closed.Store(true)
	f.cancel()
	var errs []error
	for _, p := range f.ports {
		errs = append(errs, p.Close())
	}
	f.wg.Wait()
	return errors.Join(errs...)
}

// ipv4Dst returns the destination address of an IPv4 packet.
func ipv4Dst(pkt []byte) (netip.Addr, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(pkt[16:20])), true
}
