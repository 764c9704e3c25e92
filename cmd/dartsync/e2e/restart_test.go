package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer"
)

// Recovery after a SIGKILL and restart (issue 15): the tracker, or a peer,
// is killed and started again on the same address with the same identity.
// The tests check that changes flow again (generous deadlines); the
// benchmarks measure how long that takes.

// TestTrackerKilledChangesFlowAgain: after the tracker is killed and
// restarted, a file made on each peer reaches every other peer.
func TestTrackerKilledChangesFlowAgain(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2 := c.peers[0], c.peers[1]
	writeFile(t, p1.dir, "before.txt", []byte("before the kill\n"), 0o644)
	c.waitAll("a file before the kill", c.snapshot(p1))

	c.tracker.kill()
	c.restartTracker()
	writeFile(t, p1.dir, "after-on-peer1.txt", []byte("made on peer1 after the restart\n"), 0o644)
	c.waitAll("peer1's file after the tracker restart", c.snapshot(p1))
	writeFile(t, p2.dir, "after-on-peer2.txt", []byte("made on peer2 after the restart\n"), 0o644)
	c.waitAll("peer2's file after the tracker restart", c.snapshot(p2))
	c.stopAll()
}

// TestPeerKilledFetchesFlowAgain: a peer others have fetched from is killed
// and restarted on the same port; what it makes next still reaches the
// others (their pooled connections to its previous run are reset, not
// reused until their idle timeout).
func TestPeerKilledFetchesFlowAgain(t *testing.T) {
	c := newCluster(t, 3)
	p2 := c.peers[1]
	writeFile(t, p2.dir, "from-peer2.bin", randomBytes(t, 3*pieceSize), 0o644)
	c.waitAll("a file fetched from peer2", c.snapshot(p2))

	p2.p.kill()
	c.startPeer(p2, false)
	writeFile(t, p2.dir, "from-peer2-restarted.bin", randomBytes(t, 3*pieceSize), 0o644)
	c.waitAll("a file of the restarted peer2", c.snapshot(p2))
	c.stopAll()
}

// defaultsCluster is a tracker and two peers that retry files without a
// live source at the default interval (the harness shortens it), so the
// figures are a user's.
func defaultsCluster(b *testing.B) *cluster {
	c := newCluster(b, 0)
	for _, name := range []string{"peer1", "peer2"} {
		c.addPeer(name, "--debug-retry", peer.DefaultRetry.String())
	}
	return c
}

// BenchmarkTrackerKillToChange measures, with real processes on loopback,
// "tracker SIGKILL -> next change visible on another peer": the tracker of
// two peers is killed and started again, at once (down=0s) or after two
// seconds (down=2s); as soon as it serves, peer1 makes a file, and the
// clock stops when the file is on peer2. Metrics (means over b.N kills):
// s/kill-to-visible (from the SIGKILL), s/change (from the write, made once
// the new tracker serves), s/restart (SIGKILL until the new tracker serves).
//
//	go test ./cmd/dartsync/e2e -run '^$' -bench TrackerKillToChange -benchtime 5x
func BenchmarkTrackerKillToChange(b *testing.B) {
	for _, down := range []time.Duration{0, 2 * time.Second} {
		b.Run("down="+down.String(), func(b *testing.B) { trackerKillToChange(b, down) })
	}
}

func trackerKillToChange(b *testing.B, down time.Duration) {
	c := defaultsCluster(b)
	p1, p2 := c.peers[0], c.peers[1]
	writeFile(b, p1.dir, "warm.txt", []byte("warm up\n"), 0o644)
	c.waitAll("warm-up file", c.snapshot(p1))
	var total, change, restart time.Duration
	b.ResetTimer()
	for i := range b.N {
		killed := time.Now()
		c.tracker.kill()
		time.Sleep(down)
		c.restartTracker()
		serving := time.Now()
		writeFile(b, p1.dir, fmt.Sprintf("after-kill-%d.txt", i), []byte(fmt.Sprintf("change %d\n", i)), 0o644)
		c.waitAll("the change after the kill", c.snapshot(p1), p2)
		now := time.Now()
		total += now.Sub(killed)
		change += now.Sub(serving)
		restart += serving.Sub(killed)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/kill-to-visible")
	b.ReportMetric(change.Seconds()/n, "s/change")
	b.ReportMetric(restart.Seconds()/n, "s/restart")
}

// BenchmarkPeerKillToChange is the same for a peer others fetch from:
// peer2 is killed and started again on its port; once it has scanned, it
// makes a file, and the clock stops when the file is on peer1 (whose
// pooled connection to peer2's previous run must not hold it up).
// Metrics: s/kill-to-visible, s/change (from the write), s/restart.
func BenchmarkPeerKillToChange(b *testing.B) {
	c := defaultsCluster(b)
	p1, p2 := c.peers[0], c.peers[1]
	writeFile(b, p2.dir, "warm.bin", randomBytes(b, 2*pieceSize), 0o644)
	c.waitAll("warm-up file", c.snapshot(p2))
	var total, change, restart time.Duration
	b.ResetTimer()
	for i := range b.N {
		killed := time.Now()
		p2.p.kill()
		c.startPeer(p2, false)
		serving := time.Now()
		writeFile(b, p2.dir, fmt.Sprintf("after-kill-%d.bin", i), randomBytes(b, 2*pieceSize), 0o644)
		c.waitAll("the change after the kill", c.snapshot(p2), p1)
		now := time.Now()
		total += now.Sub(killed)
		change += now.Sub(serving)
		restart += serving.Sub(killed)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "s/kill-to-visible")
	b.ReportMetric(change.Seconds()/n, "s/change")
	b.ReportMetric(restart.Seconds()/n, "s/restart")
}
