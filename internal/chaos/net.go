package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// ErrNoNamespaces: this machine cannot make the namespace LAN (not root, no
// `ip` command, no /dev/net/tun, network namespaces or TUN devices not
// permitted). LANAvailable says why; NewLAN returns it wrapped when the
// first namespace or TUN device cannot be made. The tests skip on it.
var ErrNoNamespaces = errors.New("chaos: network namespaces unavailable")

// LAN is the namespace Network: every host in its own network namespace
// with one TUN interface ("lan0", MTU 1500, address 10.77.0.N/24) whose
// other end is the suite's forwarder. The TUN devices are born in a router
// namespace (so that a run's interfaces never appear in, or clash in, the
// machine's own namespace) and then moved into their hosts' namespaces;
// the forwarder reads each host's packets from its TUN file and writes
// them, untouched, to the destination host's TUN, applying the current
// partition and Impairment (forwarder.go). Loopback is up in every
// namespace.
//
// Names: every namespace of a LAN starts with "dsc-PID-RANDOM-" (PID of
// the process that made it, RANDOM 6 hex digits): "...-rt" is the router,
// "...-hI-NAME" host I. NewLAN deletes leftovers of processes that no
// longer exist, never those of a live process (a parallel run).
//
// A LAN's methods are safe for concurrent use; after Close, Partition,
// Heal and Impair return an error.
type LAN struct {
	hosts   []Host
	prefix  string
	ip      string // path of the ip command
	nsenter string // path of nsenter; "" when missing
	log     *slog.Logger
	fwd     *forwarder // nil until the LAN is up; synchronises itself

	mu     sync.Mutex // guards closed, made, routes
	closed bool
	made   []string           // namespaces created, deleted by Close
	routes []unreachableRoute // added by Unreachable, removed by Heal (net_routes.go)
}

// LANConfig configures NewLAN.
type LANConfig struct {
	Hosts []string     // host names: unique, [A-Za-z0-9_-], at most 32 bytes
	Seed  int64        // seeds the forwarder's decisions
	Log   *slog.Logger // nil: discard
	// ReorderHold is how long a packet chosen by Impairment.Reorder is held
	// back behind the packets that follow it; 0 means 20 ms.
	ReorderHold time.Duration
}

const maxLANHosts = 250

// NewLAN makes the namespaces, the TUN devices and the forwarder. On error
// everything already made is removed. ctx bounds the setup commands only.
func NewLAN(ctx context.Context, cfg LANConfig) (l *LAN, err error) {
	if err := LANAvailable(); err != nil {
		return nil, err
	}
	if err := checkHostNames(cfg.Hosts); err != nil {
		return nil, err
	}
	ipPath, _ := exec.LookPath("ip")
	nsenter, _ := exec.LookPath("nsenter")
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hold := cfg.ReorderHold
	if hold <= 0 {
		hold = 20 * time.Millisecond
	}
	l = &LAN{prefix: newLANPrefix(), ip: ipPath, nsenter: nsenter, log: log}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.Close())
			l = nil
		}
	}()
	removeLeftoverNamespaces(ctx, ipPath, log)
	ports, addrs, err := l.build(ctx, cfg.Hosts)
	if err != nil {
		return l, err
	}
	l.fwd = newForwarder(ports, addrs, cfg.Seed, hold, log)
	log.Info("chaos lan up", "prefix", l.prefix, "hosts", len(l.hosts), "seed", cfg.Seed)
	return l, nil
}

// Hosts returns the hosts in the order of LANConfig.Hosts.
func (l *LAN) Hosts() []Host { return append([]Host(nil), l.hosts...) }

// Command returns an unstarted command running path inside host i's
// network namespace: `nsenter --net=/run/netns/NS path args...` (or `ip
// netns exec NS path args...` where nsenter is missing). Both join the
// namespace and then execute path in the same process, so the command's
// process is path itself and signals (SIGKILL, SIGSTOP) reach it directly.
// nsenter changes nothing else: the process shares the suite's mounts (a
// tmpfs mounted for a peer's folder after it started is visible to it),
// while `ip netns exec` gives it a private copy of the mount table.
func (l *LAN) Command(host int, path string, args ...string) *exec.Cmd {
	if host < 0 || host >= len(l.hosts) {
		panic(fmt.Sprintf("chaos: lan has no host %d", host)) // a bug of the caller
	}
	ns := l.hosts[host].NS
	if l.nsenter != "" {
		return exec.Command(l.nsenter, append([]string{"--net=/run/netns/" + ns, "--", path}, args...)...)
	}
	return exec.Command(l.ip, append([]string{"netns", "exec", ns, path}, args...)...)
}

// Partition cuts every link between hosts of different groups until Heal
// (a host in no group keeps its links). It replaces any partition in
// force. Packets already delayed on a link that is cut are dropped when
// they fall due.
func (l *LAN) Partition(groups ...[]int) error {
	group, err := partitionGroups(len(l.hosts), groups)
	if err != nil {
		return err
	}
	if err := l.usable(); err != nil {
		return err
	}
	l.fwd.partition(group)
	l.log.Info("chaos lan partition", "groups", groups)
	return nil
}

// partitionGroups returns each of n hosts' group (-1: none) or why groups
// is not a partition of some of the hosts.
func partitionGroups(n int, groups [][]int) ([]int, error) {
	group := make([]int, n)
	for i := range group {
		group[i] = -1
	}
	for g, hs := range groups {
		for _, h := range hs {
			if h < 0 || h >= n {
				return nil, fmt.Errorf("chaos lan: partition: no host %d", h)
			}
			if group[h] >= 0 {
				return nil, fmt.Errorf("chaos lan: partition: host %d in two groups", h)
			}
			group[h] = g
		}
	}
	return group, nil
}

// Heal restores every link cut by Partition or Unreachable.
func (l *LAN) Heal() error {
	if err := l.usable(); err != nil {
		return err
	}
	if err := l.removeRoutes(); err != nil {
		return err
	}
	l.fwd.partition(nil)
	l.log.Info("chaos lan healed")
	return nil
}

// Impair applies im to every packet between hosts from now on; the zero
// Impairment restores plain forwarding.
func (l *LAN) Impair(im Impairment) error {
	if err := checkImpairment(im); err != nil {
		return err
	}
	if err := l.usable(); err != nil {
		return err
	}
	l.fwd.impair(im)
	l.log.Info("chaos lan impairment", "loss", im.Loss, "dup", im.Dup, "reorder", im.Reorder,
		"delay", im.Delay, "jitter", im.Jitter)
	return nil
}

func checkImpairment(im Impairment) error {
	for _, p := range []float64{im.Loss, im.Dup, im.Reorder} {
		if !(p >= 0 && p <= 1) { // NaN too
			return fmt.Errorf("chaos lan: impairment probability %v outside [0, 1]", p)
		}
	}
	if im.Delay < 0 || im.Jitter < 0 {
		return fmt.Errorf("chaos lan: negative delay or jitter in %+v", im)
	}
	return nil
}

// Stats returns what the forwarder has done so far.
func (l *LAN) Stats() NetStats {
	if l.fwd == nil {
		return NetStats{}
	}
	return l.fwd.stats.snapshot()
}

func (l *LAN) usable() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fwd == nil || l.closed {
		return errors.New("chaos lan: closed")
	}
	return nil
}

// Close stops the forwarder (which removes the TUN devices) and deletes
// every namespace the LAN made. Processes still running in a host's
// namespace keep it alive until they exit; the caller stops them first.
// Safe after a failed NewLAN and when called twice.
func (l *LAN) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	made := l.made
	l.made = nil
	l.mu.Unlock()
	var errs []error
	if l.fwd != nil {
		if err := l.fwd.close(); err != nil {
			errs = append(errs, fmt.Errorf("chaos lan: close tun devices: %w", err))
		}
	}
	for i := len(made) - 1; i >= 0; i-- {
		if err := deleteNamespace(l.ip, made[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
