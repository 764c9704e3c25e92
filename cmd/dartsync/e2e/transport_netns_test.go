package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/chaos"
	"github.com/dartsync/dartsync/peer/localapi"
)

// netnsCluster is a tracker and peers as real processes, each in its own
// network namespace of a chaos.LAN (10.77.0.N; tracker first).
type netnsCluster struct {
	t     *testing.T
	lan   *chaos.LAN
	hosts []chaos.Host
	base  string
	token string
	dirs  map[int]string
}

// newNetnsCluster makes the LAN, or skips the test where namespaces cannot
// be made (not root, no ip command, no TUN).
func newNetnsCluster(t *testing.T, hosts ...string) *netnsCluster {
	t.Helper()
	if err := chaos.LANAvailable(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := chaos.NewLAN(ctx, chaos.LANConfig{Hosts: append([]string{"tracker"}, hosts...), Seed: 1})
	if errors.Is(err, chaos.ErrNoNamespaces) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &netnsCluster{t: t, lan: l, hosts: l.Hosts(), base: t.TempDir(), dirs: map[int]string{}}
}

// blockUDP makes every UDP packet host h sends to dst (a prefix) fail with
// "no route": a routing rule for UDP to table 100, whose route is
// unreachable (these kernels have no netfilter and no tc classifiers).
// The local table comes first, so UDP inside the namespace still works.
// A kernel without ipproto rules skips the test.
func (c *netnsCluster) blockUDP(h int, dst string) {
	c.t.Helper()
	ns := c.hosts[h].NS
	if out, err := exec.Command("ip", "-n", ns, "rule", "add", "pref", "100", "to", dst, "ipproto", "udp", "lookup", "100").CombinedOutput(); err != nil {
		c.t.Skipf("ip rule ipproto udp not supported here: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "-n", ns, "route", "add", "unreachable", "default", "table", "100").CombinedOutput(); err != nil {
		c.t.Fatalf("ip route add unreachable: %v: %s", err, out)
	}
}

// start runs dartsync ARGS in host h's namespace, logging to NAME.log.
func (c *netnsCluster) start(h int, args ...string) {
	c.t.Helper()
	logf, err := os.Create(c.logPath(h))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := c.lan.Command(h, bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(c.base, "no-user-config"))
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if c.t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			c.t.Logf("---- %s log:\n%s", c.hosts[h].Name, lastLogLines(b, 40))
		}
	})
}

func (c *netnsCluster) logPath(h int) string { return filepath.Join(c.base, c.hosts[h].Name+".log") }

func (c *netnsCluster) trackerAddr() string { return c.hosts[0].IP.String() + ":7000" }

func (c *netnsCluster) startTracker() {
	c.t.Helper()
	c.start(0, "tracker", "--listen", c.trackerAddr(), "--state", filepath.Join(c.base, "tracker"), "--http", "off",
		"--interval", "1s", "--peer-timeout", "5s")
	eventually(c.t, 30*time.Second, "the tracker's join token", func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(c.base, "tracker", "join.token"))
		c.token = string(bytes.TrimSpace(b))
		return c.token != "", "no token file yet"
	})
}

func (c *netnsCluster) startPeer(h int, extra ...string) {
	c.t.Helper()
	dir := filepath.Join(c.base, c.hosts[h].Name, "folder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	c.dirs[h] = dir
	args := []string{"peer", "--dir", dir, "--state", filepath.Join(c.base, c.hosts[h].Name, "state"),
		"--listen", c.hosts[h].IP.String() + ":7001", "--tracker", c.trackerAddr(), "--token", c.token,
		"--debounce", "100ms", "--log-level", "debug"}
	c.start(h, append(args, extra...)...)
}

// arrives waits until file name on host h holds content.
func (c *netnsCluster) arrives(h int, name string, content []byte) {
	c.t.Helper()
	eventually(c.t, syncWait, name+" on "+c.hosts[h].Name, func() (bool, string) {
		got, err := os.ReadFile(filepath.Join(c.dirs[h], name))
		if err != nil {
			return false, err.Error()
		}
		return bytes.Equal(got, content), fmt.Sprintf("%d bytes", len(got))
	})
}

// transports waits until host h's status shows the tracker connection
// over wantTracker and the peer device other (unless "") connected over
// wantPeer.
func (c *netnsCluster) transports(h int, other string, wantTracker, wantPeer string) localapi.Status {
	c.t.Helper()
	var st localapi.Status
	eventually(c.t, syncWait, c.hosts[h].Name+"'s status", func() (bool, string) {
		var err error
		if st, err = statusJSON(c.t, c.dirs[h]); err != nil {
			return false, err.Error()
		}
		if st.Tracker.Transport != wantTracker {
			return false, fmt.Sprintf("tracker %+v", st.Tracker)
		}
		if other == "" {
			return true, ""
		}
		for _, p := range st.Peers {
			if p.Device == other && p.Transport == wantPeer {
				return true, ""
			}
		}
		return false, fmt.Sprintf("peers %+v", st.Peers)
	})
	return st
}

func lastLogLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (c *netnsCluster) logHas(h int, s string) bool {
	b, _ := os.ReadFile(c.logPath(h))
	return bytes.Contains(b, []byte(s))
}

// TestUDPBlockedPeerSyncsOverTCP: one peer's namespace cannot send UDP at
// all (to or from it, QUIC gets no answer). It joins the tracker and syncs
// with the other peer both ways over TCP after QUIC got no answer, as the
// logs and `dartsync status` say; the other peer's tracker connection
// stays on QUIC.
func TestUDPBlockedPeerSyncsOverTCP(t *testing.T) {
	c := newNetnsCluster(t, "peer1", "peer2")
	c.blockUDP(2, "0.0.0.0/0")
	c.startTracker()
	c.startPeer(1)
	c.startPeer(2)

	one := randomBytes(t, 3<<20)
	writeFile(t, c.dirs[1], "from1.bin", one, 0o644)
	c.arrives(2, "from1.bin", one)
	two := randomBytes(t, 2<<20)
	writeFile(t, c.dirs[2], "from2.bin", two, 0o644)
	c.arrives(1, "from2.bin", two)

	st1, err := statusJSON(t, c.dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	st2 := c.transports(2, st1.Device, "tcp", "tcp")
	c.transports(1, st2.Device, "quic", "tcp")
	out, _, _ := runStatus(t, "--dir", c.dirs[2])
	if !strings.Contains(out, "connected over tcp") || !strings.Contains(out, "online, tcp") {
		t.Errorf("peer2's status does not say tcp:\n%s", out)
	}
	if !c.logHas(2, "connected to tracker") || !c.logHas(2, "transport=tcp") {
		t.Errorf("peer2's log does not say its connections are over tcp")
	}
	if !c.logHas(2, "QUIC got no answer, using TCP") {
		t.Errorf("peer2's log does not say it fell back to TCP for the tracker")
	}
	if !c.logHas(1, "QUIC got no answer, using TCP") {
		t.Errorf("peer1's log does not say it fell back to TCP for peer2")
	}
}

// TestUDPToTrackerDroppedJoinsOverTCP: a peer whose UDP to the tracker is
// dropped joins over TCP (QUIC got no answer), and syncs with the other
// peer: a small file over QUIC, a large one (transfer.BulkMinSize) over
// TCP, which fetches of large files on a LAN start with.
func TestUDPToTrackerDroppedJoinsOverTCP(t *testing.T) {
	c := newNetnsCluster(t, "peer1", "peer2")
	c.blockUDP(2, c.hosts[0].IP.String()+"/32")
	c.startTracker()
	c.startPeer(1)
	c.startPeer(2)

	data := randomBytes(t, 1<<20)
	writeFile(t, c.dirs[1], "a.bin", data, 0o644)
	c.arrives(2, "a.bin", data)
	st1, err := statusJSON(t, c.dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	c.transports(2, st1.Device, "tcp", "quic")
	c.transports(1, "", "quic", "")
	big := randomBytes(t, 9<<20)
	writeFile(t, c.dirs[1], "big.bin", big, 0o644)
	c.arrives(2, "big.bin", big)
	c.transports(2, st1.Device, "tcp", "quic+tcp")
	if !c.logHas(2, "QUIC got no answer, using TCP") {
		t.Errorf("peer2's log does not say it fell back to TCP for the tracker")
	}
}
