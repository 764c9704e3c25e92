package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiskFullStatus: with real processes, a peer whose folder (and state,
// inside it as by default) is a size-limited tmpfs receives a version
// larger than the disk. It keeps the old file and nothing else appears in
// the folder; `dartsync status` shows the folder in error with the reason
// and the path; its log says so once; once the disk is larger the version
// arrives, and every process exits cleanly. Root only (mount).
func TestDiskFullStatus(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	c := newCluster(t, 1)
	p1 := c.peers[0]
	dir := filepath.Join(c.base, "peer2", "folder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // after the peer stopped
	p2 := &peerProc{name: "peer2", dir: dir, state: filepath.Join(dir, ".dartsync"), port: freePort(t)}
	c.peers = append(c.peers, p2)
	c.startPeer(p2, true, "--state", p2.state)

	old := randomBytes(t, 128<<10)
	writeFile(t, p1.dir, "big.bin", old, 0o644)
	c.waitAll("the old version", tree{"big.bin": fileEntry(old, false)})
	big := randomBytes(t, 6<<20)
	writeFile(t, p1.dir, "big.bin", big, 0o644)
	eventually(t, syncWait, "the disk-full error in peer2's status", func() (bool, string) {
		out, errOut, code := runStatus(t, "--dir", p2.dir)
		return code == 0 && strings.Contains(out, "error: cannot write: disk full: big.bin"),
			fmt.Sprintf("exit %d: %s%s", code, out, errOut)
	})
	if d := diff(c.snapshot(p2), tree{"big.bin": fileEntry(old, false)}); d != "" {
		t.Fatalf("peer2's folder while its disk is full: %s", d)
	}
	b, err := os.ReadFile(filepath.Join(c.base, "peer2.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `msg="cannot write: disk full`); n != 1 {
		t.Errorf("peer2 logged the disk-full error %d times, want once", n)
	}
	if !strings.Contains(string(b), "path=big.bin") {
		t.Error("peer2's log does not name big.bin")
	}

	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT, "size=16m"); err != nil {
		t.Fatal(err)
	}
	c.waitAll("the new version", tree{"big.bin": fileEntry(big, false)})
	eventually(t, syncWait, "peer2's error cleared", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		return st.Folders[0].State != "error", st.Folders[0].State + ": " + st.Folders[0].Reason
	})
	c.stopAll()
}
