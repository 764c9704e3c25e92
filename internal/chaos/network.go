package chaos

import (
	"net/netip"
	"os/exec"
	"time"
)

// Host is one node of a Network.
type Host struct {
	Name string     // "tracker", "peer1", ...
	NS   string     // its network namespace ("" on loopback)
	IP   netip.Addr // the address other hosts reach it at
}

// Impairment is what the forwarder does to packets between hosts; the zero
// value forwards every packet at once, in order.
type Impairment struct {
	Loss    float64       // probability a packet is dropped
	Dup     float64       // probability a packet is sent twice
	Reorder float64       // probability a packet is held back behind the next ones
	Delay   time.Duration // added to every packet
	Jitter  time.Duration // uniform extra delay in [0, Jitter)
}

// Network runs the suite's processes and injects the network faults. The
// implementations are the namespace LAN (net*.go) and loopback (for
// development without root: Partition and Impair then fail with
// ErrUnsupported).
//
// Contract: Command returns an unstarted command that runs inside host i's
// network (the caller starts, signals and waits for it). Partition cuts
// every link between hosts of different groups (a host in no group keeps its
// links) until Heal, silently (packets dropped); Unreachable cuts them with
// routes inside the hosts, so that sends fail at once; Impair applies to every packet between hosts until
// called again with the zero Impairment. Close removes everything the
// Network created; it is safe to call after a failed creation step.
type Network interface {
	Hosts() []Host
	Command(host int, path string, args ...string) *exec.Cmd
	Partition(groups ...[]int) error
	Unreachable(groups ...[]int) error
	Heal() error
	Impair(Impairment) error
	Close() error
}
