package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	pieceSize = 64 << 10
	large     = 32 << 20
	syncWait  = 60 * time.Second
)

// cluster is a tracker and its peers, each with its own folder and state.
type cluster struct {
	t       testing.TB
	base    string
	tracker *proc
	addr    string
	token   string
	peers   []*peerProc
}

type peerProc struct {
	name  string
	dir   string
	state string
	port  int
	p     *proc
}

// newCluster starts a tracker and n peers (peer1..peerN), each joined with
// the tracker's token and past its first scan.
func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	base := t.TempDir()
	if keep := os.Getenv("DARTSYNC_E2E_KEEP"); keep != "" {
		// Keep folders and logs for a look after the run.
		base = filepath.Join(keep, t.Name())
		if err := os.RemoveAll(base); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &cluster{t: t, base: base}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
	})
	c.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.tracker = start(t, base, "tracker", "tracker", "--listen", c.addr, "--state", c.trackerState(),
		"--piece-size", strconv.Itoa(pieceSize))
	c.readToken()
	for i := 1; i <= n; i++ {
		c.addPeer(fmt.Sprintf("peer%d", i))
	}
	return c
}

// trackerState is the tracker's state directory.
func (c *cluster) trackerState() string { return filepath.Join(c.base, "tracker") }

// readToken waits for the tracker's join token file and reads it.
func (c *cluster) readToken() {
	c.t.Helper()
	eventually(c.t, 20*time.Second, "tracker join token", func() (bool, string) {
		b, err := os.ReadFile(filepath.Join(c.trackerState(), "join.token"))
		if err != nil {
			return false, err.Error()
		}
		c.token = strings.TrimSpace(string(b))
		return c.token != "", "empty token file"
	})
}

// restartTracker starts the tracker again with its arguments and reads its
// join token (a new one if its state was lost).
func (c *cluster) restartTracker() {
	c.t.Helper()
	c.tracker = start(c.t, c.base, "tracker", c.tracker.args...)
	c.readToken()
	eventually(c.t, 20*time.Second, "tracker serving", func() (bool, string) {
		b, _ := os.ReadFile(filepath.Join(c.base, "tracker.log"))
		runs := strings.Split(string(b), "==== start")
		return strings.Contains(runs[len(runs)-1], "tracker serving"), "not serving yet"
	})
}

// addPeer adds and starts one more peer, joined with the tracker's token,
// with extra flags after the harness's (a repeated flag: the last one wins).
func (c *cluster) addPeer(name string, extra ...string) *peerProc {
	c.t.Helper()
	pp := &peerProc{
		name:  name,
		dir:   filepath.Join(c.base, name, "folder with spaces"),
		state: filepath.Join(c.base, name, "state"),
		port:  freePort(c.t),
	}
	c.peers = append(c.peers, pp)
	c.startPeer(pp, true, extra...)
	return pp
}

// startPeer starts pp; the first time with the tracker address and token,
// later with neither (the membership is remembered). It returns after the
// peer's first scan.
func (c *cluster) startPeer(pp *peerProc, join bool, extra ...string) {
	c.t.Helper()
	c.launchPeer(pp, join, extra...)
	// Start peers one after the other: wait for this one's first scan,
	// which follows its registration (stats.json counts scans).
	eventually(c.t, 30*time.Second, pp.name+" registered", func() (bool, string) {
		s, err := readStats(pp.state)
		if err != nil {
			return false, err.Error()
		}
		return s.ScansCompleted > 0, fmt.Sprintf("%d scans", s.ScansCompleted)
	})
}

// launchPeer starts pp's process (see startPeer) and returns at once,
// without waiting for its first scan.
func (c *cluster) launchPeer(pp *peerProc, join bool, extra ...string) {
	c.t.Helper()
	// A restarted peer's counters start from zero: drop the old file.
	if err := os.Remove(filepath.Join(pp.state, "stats.json")); err != nil && !os.IsNotExist(err) {
		c.t.Fatal(err)
	}
	args := []string{"peer", "--dir", pp.dir, "--state", pp.state,
		"--listen", fmt.Sprintf("127.0.0.1:%d", pp.port),
		"--debounce", "100ms", "--debug-retry", "300ms", "--rescan", "30s", "--debug-stats-every", "50ms",
		"--log-level", "debug"}
	if join {
		args = append(args, "--tracker", c.addr, "--token", c.token)
	}
	args = append(args, extra...)
	// --log-level is a global flag: kong accepts it after the command.
	pp.p = start(c.t, c.base, pp.name, args...)
}

// stopAll stops every peer, then the tracker, each with SIGTERM; the test
// fails unless each exits cleanly.
func (c *cluster) stopAll() {
	c.t.Helper()
	for _, pp := range c.peers {
		pp.p.stop()
	}
	c.tracker.stop()
}

// waitAll waits until every listed peer's folder equals want.
func (c *cluster) waitAll(what string, want tree, peers ...*peerProc) {
	c.t.Helper()
	if len(peers) == 0 {
		peers = c.peers
	}
	for _, pp := range peers {
		eventually(c.t, syncWait, what+" on "+pp.name, func() (bool, string) {
			got, err := readTree(pp.dir)
			if err != nil {
				return false, err.Error()
			}
			d := diff(got, want)
			return d == "", d
		})
	}
}

func (c *cluster) snapshot(pp *peerProc) tree {
	c.t.Helper()
	tr, err := readTree(pp.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return tr
}

// dumpLogs prints the warnings and errors of every process, and the tail of
// each log.
func (c *cluster) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(c.base, "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		lines := strings.Split(string(b), "\n")
		var keep []string
		for _, ln := range lines {
			if strings.Contains(ln, "level=WARN") || strings.Contains(ln, "level=ERROR") || strings.HasPrefix(ln, "dartsync:") {
				keep = append(keep, ln)
			}
		}
		keep = append(keep, "---- tail")
		keep = append(keep, lines[max(0, len(lines)-15):]...)
		c.t.Logf("==== %s\n%s", filepath.Base(l), strings.Join(keep, "\n"))
	}
}

// logSize returns the size of pp's log (every run of pp appends to it).
func logSize(t testing.TB, pp *peerProc) int64 {
	t.Helper()
	fi, err := os.Stat(pp.p.log.Name())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns pp's log from offset on.
func logSince(t testing.TB, pp *peerProc, offset int64) string {
	t.Helper()
	b, err := os.ReadFile(pp.p.log.Name())
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}

// lastRun returns pp's log since its last start.
func lastRun(t testing.TB, pp *peerProc) string {
	t.Helper()
	b, err := os.ReadFile(pp.p.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if i := strings.LastIndex(s, "==== start"); i >= 0 {
		s = s[i:]
	}
	return s
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
