package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDiscoveryJoinByTokenAndTrackerMoves: on a LAN of network namespaces
// with only connected routes, two peers join a tracker with its token
// alone (no --tracker), while another tracker on the same LAN announces
// itself too: they join the one the token names; so does a peer on the
// tracker's own host. The tracker then moves to
// another address and port (its host's address changed, as a DHCP lease
// may); the peers find it again, and a restarted peer dials the address it
// remembered.
func TestDiscoveryJoinByTokenAndTrackerMoves(t *testing.T) {
	l := newVLAN(t, 4) // 0 tracker, 1 another tracker, 2 and 3 peers
	base := t.TempDir()
	logs := filepath.Join(base, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	state := func(name string) string { return filepath.Join(base, "state", name) }
	tracker := l.start(0, logs, "tracker", "tracker", "--listen", ":7000", "--state", state("tracker"), "--http", "off")
	other := l.start(1, logs, "other", "tracker", "--listen", ":7000", "--state", state("other"), "--http", "off")
	token := filepath.Join(state("tracker"), "join.token")
	eventually(t, 30*time.Second, "join token", func() (bool, string) {
		b, err := os.ReadFile(token)
		return err == nil && len(bytes.TrimSpace(b)) > 0, "not written yet"
	})
	dirs := []string{filepath.Join(base, "peer1"), filepath.Join(base, "peer2")}
	peerArgs := func(i int) []string {
		return []string{"peer", "--dir", dirs[i], "--state", state(fmtPeer(i)), "--listen", ":7001",
			"--debounce", "100ms", "--debug-retry", "300ms"}
	}
	peers := make([]*proc, 2)
	for i := range peers {
		peers[i] = l.start(2+i, logs, fmtPeer(i), append(peerArgs(i), "--token-file", token)...)
	}
	synced := func(what, from, to, rel string, data []byte) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond)) }()
		writeFile(t, from, rel, data, 0o644)
		eventually(t, 90*time.Second, what, func() (bool, string) {
			b, err := os.ReadFile(filepath.Join(to, rel))
			if err != nil {
				return false, err.Error()
			}
			return bytes.Equal(b, data), "different content"
		})
	}
	// a peer on the tracker's own host finds it too (its broadcast comes back to the host)
	local := filepath.Join(base, "peer-local")
	onTracker := l.start(0, logs, "peer-local", "peer", "--dir", local, "--state", state("peer-local"),
		"--listen", ":7002", "--debounce", "100ms", "--debug-retry", "300ms", "--token-file", token)
	synced("sync after joining by token", dirs[0], dirs[1], "joined.txt", []byte("found on the LAN\n"))
	synced("sync to the tracker's host", dirs[1], local, "local.txt", []byte("same host\n"))
	onTracker.stop()
	for i, p := range peers {
		if log := readLog(t, p); !strings.Contains(log, "found on the local network") || !strings.Contains(log, "addr="+l.addr(0)+":7000") {
			t.Errorf("peer%d did not find the tracker on the LAN; log %s", i+1, p.log.Name())
		}
	}
	if out := members(t, state("other")); !strings.Contains(out, "no members") || strings.Contains(readLog(t, other), "new member joined") {
		t.Errorf("a peer joined the other tracker:\n%s", out)
	}

	// the tracker moves: new address, new port
	tracker.stop()
	moved := "10.79.0.11"
	l.readdress(0, l.addr(0), moved)
	tracker = l.start(0, logs, "tracker", "tracker", "--listen", ":7010", "--state", state("tracker"), "--http", "off")
	synced("sync after the tracker moved", dirs[1], dirs[0], "moved.txt", []byte("found again\n"))
	for i, p := range peers {
		if log := readLog(t, p); !strings.Contains(log, "addr="+moved+":7010") {
			t.Errorf("peer%d did not find the moved tracker; log %s", i+1, p.log.Name())
		}
	}

	// a restarted peer (no token) dials the address it remembered
	peers[0].stop()
	peers[0] = l.start(2, logs, "peer1-again", peerArgs(0)...)
	synced("sync after a restart", dirs[1], dirs[0], "restarted.txt", []byte("remembered\n"))
	if log := readLog(t, peers[0]); !strings.Contains(log, "tracker="+moved+":7010") {
		t.Errorf("restarted peer1 did not start with the remembered address; log %s", peers[0].log.Name())
	}

	// the tracker moves while peer1 is off (it misses the announcement the
	// tracker makes when it starts): at its next start peer1's remembered
	// address does not answer, so it looks on the LAN
	peers[0].stop()
	tracker.stop()
	again := "10.79.0.12"
	l.readdress(0, moved, again)
	tracker = l.start(0, logs, "tracker", "tracker", "--listen", ":7020", "--state", state("tracker"), "--http", "off")
	peers[0] = l.start(2, logs, "peer1-third", peerArgs(0)...)
	synced("sync after peer1 looked again", dirs[1], dirs[0], "moved-again.txt", []byte("second move\n"))
	// (peer2 asked the LAN too: peer1 may hear the answer while its own dial
	// of the dead address still waits, and take it from there)
	if log := readLog(t, peers[0]); !strings.Contains(log, "tracker address from the local network") || !strings.Contains(log, "addr="+again+":7020") {
		t.Errorf("peer1 did not look for the tracker again; log:\n%s", readLog(t, peers[0]))
	}
}

func fmtPeer(i int) string { return "peer" + string(rune('1'+i)) }

// readLog returns what p logged so far.
func readLog(t *testing.T, p *proc) string {
	t.Helper()
	b, err := os.ReadFile(p.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// members lists the members of the tracker with state dir (through its
// admin socket).
func members(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command(bin, "tracker", "members", "list", "--state", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("members list: %v: %s", err, out)
	}
	return string(out)
}
