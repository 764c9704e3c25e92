package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPeerLogsTransferProgress: with stderr not a terminal (a log file), a
// transfer that lasts well over 3 s is reported by "transfer progress" log
// lines on the receiving peer (about every 5 s), each with the path, bytes
// done, size, rate and ETA. The data comes from the daemon's status
// snapshot: the test needs the full Daemon.Status, which comes with the
// local API and `dartsync status`; without that command in the binary it
// is skipped.
func TestPeerLogsTransferProgress(t *testing.T) {
	if err := exec.Command(bin, "status", "--help").Run(); err != nil {
		t.Skip("this build has no `dartsync status` (the daemon's full Status): ", err)
	}
	c := newCluster(t, 2)
	p1, p2 := c.peers[0], c.peers[1]
	p1.p.stop()
	// 6 MiB at 1 MiB/s: the transfer lasts about 6 s.
	c.startPeer(p1, false, "--max-send", "1MiB/s")
	from := logSize(t, p2)
	data := randomBytes(t, 6<<20)
	writeFile(t, p1.dir, "slow.bin", data, 0o644)
	c.waitAll("slow.bin synced", tree{"slow.bin": fileEntry(data, false)}, p2)
	var lines string
	eventually(t, 10*time.Second, "transfer progress logged", func() (bool, string) {
		lines = grepLines(logSince(t, p2, from), "transfer progress")
		return lines != "", "no transfer progress line in peer2's log"
	})
	first := strings.Split(lines, "\n")[0]
	for _, want := range []string{"path=slow.bin", "done=", "size=6291456", "rate=", "eta="} {
		if !strings.Contains(first, want) {
			t.Errorf("progress line %q lacks %q", first, want)
		}
	}
	if n := strings.Count(lines, "\n") + 1; n > 3 {
		t.Errorf("%d progress lines for a ~6 s transfer, want one every ~5 s:\n%s", n, lines)
	}
	c.stopAll()
}
