package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is one run of the suite.
type Config struct {
	Budget   time.Duration   // how long the workload and the nemesis run
	Seed     int64           // every random choice of the run
	Peers    int             // at least 4
	Dir      string          // the run's directory (folders, states, logs, history)
	Converge time.Duration   // bound for convergence once everything is healed
	Known    map[string]bool // known issues reported without failing (see invariants.go)
	NoFaults bool            // the workload alone (a baseline)
	Faults   map[string]bool // the fault kinds injected (nil: all of kill, stop, fill, partition, impair)
	Logf     func(format string, args ...any)
}

// Timings of the processes: short keep-alives so a stopped process is
// dropped within seconds.
const (
	trackerInterval    = 1 * time.Second
	trackerPeerTimeout = 4 * time.Second
	peerDebounce       = 200 * time.Millisecond
	peerRetry          = 500 * time.Millisecond
	// tmpfsSize: 10% of it (the default cap of kept versions) holds the
	// versions a run's peer keeps, so that none is pruned.
	tmpfsSize = 192 << 20
)

// peerProc is one peer: its process and where its files live. root holds
// the folder (root/folder), the state (root/state) and the workload's
// temporary files (root/tmp, outside the folder but on its file system, so
// that a version is renamed into place); root is a size-limited tmpfs on
// the peers that the nemesis fills.
type peerProc struct {
	proc
	idx    int
	root   string
	dir    string
	tmp    string
	state  string
	tmpfs  bool
	device string // the device ID's short form (conflict copy names)
}

// cluster is the run's processes on its Network.
type cluster struct {
	cfg     Config
	net     Network
	bin     string
	hist    *History
	tracker *proc
	taddr   string
	tstate  string
	peers   []*peerProc
}

// buildBinary builds dartsync into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "dartsync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/dartsync/dartsync/cmd/dartsync")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build dartsync: %w\n%s", err, out)
	}
	return bin, nil
}

// hostAddr is the UDP address host i listens on: the usual ports in a
// namespace of its own, a free port of 127.0.0.1 on loopback.
func hostAddr(h Host, port int) (string, error) {
	if h.NS != "" {
		return netip.AddrPortFrom(h.IP, uint16(port)).String(), nil
	}
	c, err := net.ListenPacket("udp", net.JoinHostPort(h.IP.String(), "0"))
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

// newCluster starts the tracker and the peers (host 0 is the tracker, host
// i the peer i) and waits until each peer finished its first scan. Peers
// listed in tmpfsPeers get their root on a tmpfs (root only).
func newCluster(ctx context.Context, cfg Config, nw Network, bin string, hist *History, tmpfsPeers map[int]bool) (*cluster, error) {
	c := &cluster{cfg: cfg, net: nw, bin: bin, hist: hist, tstate: filepath.Join(cfg.Dir, "tracker")}
	hosts := nw.Hosts()
	var err error
	if c.taddr, err = hostAddr(hosts[0], 7000); err != nil {
		return c, err
	}
	c.tracker = &proc{name: "tracker", host: 0, logPath: filepath.Join(cfg.Dir, "tracker.log"), args: []string{
		"tracker", "--listen", c.taddr, "--state", c.tstate, "--http", "off",
		"--interval", trackerInterval.String(), "--peer-timeout", trackerPeerTimeout.String(),
		"--piece-size", strconv.Itoa(64 << 10)}}
	if err := c.tracker.start(nw, bin, c.env()); err != nil {
		return c, err
	}
	token := filepath.Join(c.tstate, "join.token")
	if err := waitFor(ctx, 30*time.Second, "tracker join token", func() (bool, string) {
		b, err := os.ReadFile(token)
		if err != nil {
			return false, err.Error()
		}
		return strings.TrimSpace(string(b)) != "", "empty token"
	}); err != nil {
		return c, err
	}
	for i := 1; i <= cfg.Peers; i++ {
		pp := &peerProc{idx: i - 1, root: filepath.Join(cfg.Dir, fmt.Sprintf("peer%d", i))}
		pp.dir, pp.tmp, pp.state = filepath.Join(pp.root, "folder"), filepath.Join(pp.root, "tmp"), filepath.Join(pp.root, "state")
		if err := os.MkdirAll(pp.root, 0o755); err != nil {
			return c, err
		}
		if tmpfsPeers[pp.idx] {
			if err := mountTmpfs(pp.root, tmpfsSize); err != nil {
				return c, err
			}
			pp.tmpfs = true
		}
		if err := os.MkdirAll(pp.tmp, 0o755); err != nil {
			return c, err
		}
		addr, err := hostAddr(hosts[i], 7001)
		if err != nil {
			return c, err
		}
		pp.proc = proc{name: fmt.Sprintf("peer%d", i), host: i, logPath: filepath.Join(cfg.Dir, fmt.Sprintf("peer%d.log", i)),
			args: []string{"peer", "--dir", pp.dir, "--state", pp.state, "--listen", addr,
				"--tracker", c.taddr, "--token-file", token, "--name", fmt.Sprintf("peer%d", i),
				"--debounce", peerDebounce.String(), "--debug-retry", peerRetry.String(),
				"--rescan", "30s", "--debug-stats-every", "200ms",
				// The whole file system for kept versions: the default cap
				// (10% of a 192 MiB tmpfs) prunes versions a long run's
				// churn keeps, and the "lost" invariant counts kept
				// versions as present.
				"--keep-versions-size", "100%"}}
		c.peers = append(c.peers, pp)
		if err := pp.start(nw, bin, c.env()); err != nil {
			return c, err
		}
		if err := c.waitScanned(ctx, pp); err != nil {
			return c, err
		}
		pp.device = deviceShort(pp.logPath)
	}
	return c, nil
}

// env is the processes' extra environment: no user config file leaks in.
func (c *cluster) env() []string {
	return []string{"XDG_CONFIG_HOME=" + filepath.Join(c.cfg.Dir, "no-user-config"), "DARTSYNC_NO_DISCOVERY=1"}
}

// waitScanned waits for the peer's first scan (its stats file counts
// scans; a restarted peer writes a new one).
func (c *cluster) waitScanned(ctx context.Context, pp *peerProc) error {
	return waitFor(ctx, 60*time.Second, pp.name+" first scan", func() (bool, string) {
		if !pp.running() {
			return false, "not running"
		}
		b, err := os.ReadFile(filepath.Join(pp.state, "stats.json"))
		if err != nil {
			return false, err.Error()
		}
		var s struct {
			Scans int64 `json:"scans_completed"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return false, err.Error()
		}
		return s.Scans > 0, "no scan yet"
	})
}

// procs returns the tracker and the peers' processes.
func (c *cluster) procs() []*proc {
	out := []*proc{c.tracker}
	for _, pp := range c.peers {
		out = append(out, &pp.proc)
	}
	return out
}

// close kills every process and unmounts the tmpfs roots.
func (c *cluster) close() {
	for _, p := range c.procs() {
		if p != nil {
			p.kill()
		}
	}
	for _, pp := range c.peers {
		if pp.tmpfs {
			if err := unmountTmpfs(pp.root); err != nil {
				c.cfg.Logf("unmount %s: %v", pp.root, err)
			}
		}
	}
}

// deviceShort reads a peer's device ID (short form) from its log.
func deviceShort(logPath string) string {
	b, _ := os.ReadFile(logPath)
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "peer started") {
			continue
		}
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "device="); ok {
				v, _, _ = strings.Cut(strings.Trim(v, `"`), "-") // the short form is the first group
				return v
			}
		}
	}
	return ""
}

// waitFor polls cond until it holds, the timeout passes or ctx ends.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not reached after %v: %s", what, timeout, why)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
