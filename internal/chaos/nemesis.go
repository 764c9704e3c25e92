package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"syscall"
	"time"
)

// The nemesis injects one fault at a time at seeded random moments
// (0.5-3 s apart) and heals each after a seeded random while, so that
// faults overlap (at most maxActive at once, never two on one process):
//   - kill: SIGKILL any process (tracker included), restarted 0.2-3 s later;
//   - stop: SIGSTOP a process past the tracker's peer timeout, then SIGCONT;
//   - fill: fill a tmpfs peer's file system, freed 2-8 s later;
//   - partition: split the hosts in two groups, healed 2-10 s later;
//   - impair: loss, duplication, reordering, delay and jitter on every
//     packet, lifted 3-12 s later.
// Network faults are skipped where the Network does not support them
// (loopback); fill is skipped without a tmpfs peer (not root).

const maxActive = 3

// heal is a pending end of a fault.
type heal struct {
	at     time.Time
	target string // the process or "net"/"impair": one fault per target
	what   string
	fn     func() error
}

// nemesis owns the cluster's processes while it runs.
type nemesis struct {
	c        *cluster
	rng      *rand.Rand
	counts   map[string]int
	pending  []heal
	netFault bool // the Network partitions and impairs
	fills    int
	off      bool            // inject nothing (a baseline run)
	only     map[string]bool // the kinds to inject (nil: all)
	errs     []string
}

func newNemesis(c *cluster, seed int64, netFault bool) *nemesis {
	return &nemesis{c: c, rng: rand.New(rand.NewPCG(uint64(seed), 7)), counts: map[string]int{}, netFault: netFault}
}

func (n *nemesis) log(kind, target, note string) {
	n.c.hist.Add(Event{Who: "nemesis", Kind: kind, Path: target, Note: note})
}

// run injects and heals faults until ctx ends, then heals every fault.
func (n *nemesis) run(ctx context.Context) {
	next := time.Now().Add(n.interval())
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			n.healAll()
			return
		case <-tick.C:
		}
		n.healDue(time.Now())
		n.restartCrashed()
		if time.Now().After(next) {
			if len(n.pending) < maxActive && !n.off {
				n.inject()
			}
			next = time.Now().Add(n.interval())
		}
	}
}

func (n *nemesis) interval() time.Duration {
	return time.Duration(500+n.rng.IntN(2500)) * time.Millisecond
}

func (n *nemesis) busy(target string) bool {
	for _, h := range n.pending {
		if h.target == target {
			return true
		}
	}
	return false
}

func (n *nemesis) after(lo, hi time.Duration) time.Time {
	return time.Now().Add(lo + time.Duration(n.rng.Int64N(int64(hi-lo))))
}

// inject picks a fault kind and a free target.
func (n *nemesis) inject() {
	kinds := []string{"kill", "kill", "kill", "stop", "stop"}
	if n.hasTmpfs() {
		kinds = append(kinds, "fill", "fill")
	}
	if n.netFault {
		kinds = append(kinds, "partition", "partition", "impair", "impair")
	}
	kind := kinds[n.rng.IntN(len(kinds))]
	if n.only != nil && !n.only[kind] {
		return // the draw stays the same whatever is left out: the rest of the run replays
	}
	procs := n.c.procs()
	switch kind {
	case "kill", "stop":
		p := procs[n.rng.IntN(len(procs))]
		if n.busy(p.name) || !p.running() {
			return
		}
		if kind == "kill" {
			p.kill()
			n.count("kill", p.name)
			n.pending = append(n.pending, heal{at: n.after(200*time.Millisecond, 3*time.Second), target: p.name,
				what: "restart", fn: func() error { return p.start(n.c.net, n.c.bin, n.c.env()) }})
			return
		}
		if err := p.signal(syscall.SIGSTOP); err != nil {
			n.errs = append(n.errs, err.Error())
			return
		}
		n.count("stop", p.name)
		n.pending = append(n.pending, heal{at: n.after(trackerPeerTimeout+500*time.Millisecond, trackerPeerTimeout+3*time.Second),
			target: p.name, what: "cont", fn: func() error { return p.signal(syscall.SIGCONT) }})
	case "fill":
		var cands []*peerProc
		for _, pp := range n.c.peers {
			if pp.tmpfs && !n.busy("fill:"+pp.name) {
				cands = append(cands, pp)
			}
		}
		if len(cands) == 0 {
			return
		}
		pp := cands[n.rng.IntN(len(cands))]
		n.fills++
		name, err := fillDisk(pp, n.fills)
		if err != nil {
			n.errs = append(n.errs, err.Error())
			return
		}
		n.count("fill", pp.name)
		n.pending = append(n.pending, heal{at: n.after(2*time.Second, 8*time.Second), target: "fill:" + pp.name,
			what: "free", fn: func() error { return n.free(pp, name) }})
	case "partition":
		if n.busy("net") {
			return
		}
		groups := n.split(len(procs))
		cut, how := n.c.net.Partition, "drop" // silently, in the forwarder
		if n.rng.IntN(2) == 0 {
			cut, how = n.c.net.Unreachable, "unreachable" // routes: sends fail at once
		}
		if err := cut(groups...); err != nil {
			n.errs = append(n.errs, err.Error())
			return
		}
		n.count("partition", fmt.Sprintf("%v (%s)", groups, how))
		n.pending = append(n.pending, heal{at: n.after(2*time.Second, 10*time.Second), target: "net", what: "heal", fn: n.c.net.Heal})
	case "impair":
		if n.busy("impair") {
			return
		}
		im := Impairment{
			Loss: n.rng.Float64() * 0.3, Dup: n.rng.Float64() * 0.1, Reorder: n.rng.Float64() * 0.2,
			Delay: time.Duration(n.rng.IntN(50)) * time.Millisecond, Jitter: time.Duration(n.rng.IntN(30)) * time.Millisecond,
		}
		if err := n.c.net.Impair(im); err != nil {
			n.errs = append(n.errs, err.Error())
			return
		}
		n.count("impair", fmt.Sprintf("%+v", im))
		n.pending = append(n.pending, heal{at: n.after(3*time.Second, 12*time.Second), target: "impair", what: "unimpair",
			fn: func() error { return n.c.net.Impair(Impairment{}) }})
	}
}

func (n *nemesis) count(kind, target string) {
	n.counts[kind]++
	n.log(kind, target, "")
}

// split returns two non-empty groups of host indexes.
func (n *nemesis) split(hosts int) [][]int {
	for {
		var a, b []int
		for i := range hosts {
			if n.rng.IntN(2) == 0 {
				a = append(a, i)
			} else {
				b = append(b, i)
			}
		}
		if len(a) > 0 && len(b) > 0 {
			return [][]int{a, b}
		}
	}
}

func (n *nemesis) hasTmpfs() bool {
	for _, pp := range n.c.peers {
		if pp.tmpfs {
			return true
		}
	}
	return false
}

// healDue runs the heals whose time has come.
func (n *nemesis) healDue(now time.Time) {
	var keep []heal
	for _, h := range n.pending {
		if now.Before(h.at) {
			keep = append(keep, h)
			continue
		}
		n.doHeal(h)
	}
	n.pending = keep
}

func (n *nemesis) doHeal(h heal) {
	err := h.fn()
	note := ""
	if err != nil {
		note = err.Error()
		n.errs = append(n.errs, fmt.Sprintf("%s %s: %v", h.what, h.target, err))
	}
	n.log(h.what, h.target, note)
}

// healAll ends every fault at once (the end of the run).
func (n *nemesis) healAll() {
	sort.Slice(n.pending, func(i, j int) bool { return n.pending[i].at.Before(n.pending[j].at) })
	for _, h := range n.pending {
		n.doHeal(h)
	}
	n.pending = nil
	if n.netFault {
		if err := errors.Join(n.c.net.Heal(), n.c.net.Impair(Impairment{})); err != nil {
			n.errs = append(n.errs, err.Error())
		}
	}
	n.restartCrashed()
}

// restartCrashed restarts a process that exited by itself (recorded as a
// crash by proc.running) or that is neither running nor due a restart.
func (n *nemesis) restartCrashed() {
	for _, p := range n.c.procs() {
		if p.running() || n.busy(p.name) {
			continue
		}
		if err := p.start(n.c.net, n.c.bin, n.c.env()); err != nil {
			n.errs = append(n.errs, err.Error())
			continue
		}
		n.log("restart-crashed", p.name, "after an exit nobody asked for")
	}
}

// summary is the faults injected, by kind.
func (n *nemesis) summary() string {
	var kinds []string
	for k := range n.counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s=%d", k, n.counts[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
