package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestTCPOnlyCluster: a tracker and two peers all run with --transport tcp
// (listening on TCP only): they join, a file and its edit sync, and each
// peer's status names tcp for the tracker and for the other peer.
func TestTCPOnlyCluster(t *testing.T) {
	c := newCluster(t, 0)
	c.tracker.stop()
	c.tracker.args = append(c.tracker.args, "--transport", "tcp")
	c.restartTracker()
	p1 := c.addPeer("peer1", "--transport", "tcp")
	p2 := c.addPeer("peer2", "--transport", "tcp")

	data := randomBytes(t, 3<<20)
	writeFile(t, p1.dir, "big.bin", data, 0o644)
	arrived := func(want []byte) func() (bool, string) {
		return func() (bool, string) {
			got, err := os.ReadFile(filepath.Join(p2.dir, "big.bin"))
			if err != nil {
				return false, err.Error()
			}
			return bytes.Equal(got, want), fmt.Sprintf("%d bytes", len(got))
		}
	}
	eventually(t, syncWait, "big.bin on peer2", arrived(data))
	data[12345] ^= 0xff
	writeFile(t, p1.dir, "big.bin", data, 0o644)
	eventually(t, syncWait, "the edit on peer2", arrived(data))

	eventually(t, syncWait, "tcp in peer2's status", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		ok := st.Tracker.Transport == "tcp" && len(st.Peers) == 1 && st.Peers[0].Transport == "tcp"
		return ok, fmt.Sprintf("tracker %+v, peers %+v", st.Tracker, st.Peers)
	})
}
