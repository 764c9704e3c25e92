package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// admin runs `dartsync tracker SUB ...` on the cluster's tracker state and
// returns its stdout; it fails the test if the command fails.
func (c *cluster) admin(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(bin, append(append([]string{"tracker"}, args...), "--state", c.trackerState())...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("dartsync tracker %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// deviceOf is the device ID of a peer that has run once.
func deviceOf(t *testing.T, pp *peerProc) string {
	t.Helper()
	id, err := identity.LoadOrCreate(pp.state)
	if err != nil {
		t.Fatal(err)
	}
	return id.ID.String()
}

// TestFolderLimitedToken: real processes. A device joining with a token
// limited to a folder it does not run (photos) is refused the default
// folder, stops saying why, and gets nothing of it on disk; `tracker
// members` shows it with photos. Widened to the default folder it syncs;
// narrowed again its running peer is stopped by the tracker; removed, it
// is no longer listed. The admin commands reach the running tracker
// through its admin socket.
func TestFolderLimitedToken(t *testing.T) {
	c := newCluster(t, 1)
	p1 := c.peers[0]
	writeFile(t, p1.dir, "a.txt", []byte("default folder only"), 0o644)
	want := tree{"a.txt": fileEntry([]byte("default folder only"), false)}
	c.waitAll("a.txt on peer1", want, p1)

	limited := strings.TrimSpace(c.admin("token", "--folders", "photos", "--expires", "1h"))
	if !strings.HasPrefix(limited, strings.SplitN(c.token, ":", 2)[0]+":") || limited == c.token {
		t.Fatalf("limited token %q: want the tracker's ID and a new secret (own token %q)", limited, c.token)
	}
	own := c.token
	c.token = limited
	lim := &peerProc{name: "limited", dir: p1.dir + "-limited", state: c.base + "/limited/state", port: freePort(t)}
	c.launchPeer(lim, true)
	err, exited := lim.p.waitExit(30 * time.Second)
	if !exited || err == nil {
		t.Fatalf("limited peer on the default folder: exited=%v err=%v, want an error exit", exited, err)
	}
	if log := lastRun(t, lim); !strings.Contains(log, "folder not shared") {
		t.Fatalf("limited peer's log does not say the folder is not shared:\n%s", log)
	}
	if got, err := readTree(lim.dir); err == nil && len(got) > 0 {
		t.Fatalf("limited peer's folder holds %v", got)
	}
	dev := deviceOf(t, lim)
	if out := c.admin("members"); !strings.Contains(grepLines(out, dev), "photos") {
		t.Fatalf("members does not list %s with photos:\n%s", dev, out)
	}

	// widen: the default folder syncs
	c.admin("members", "--device", dev[:9], "--folders", "(default),photos")
	c.peers = append(c.peers, lim)
	c.startPeer(lim, true)
	c.waitAll("a.txt on the widened peer", want, lim)

	// narrow while it runs: the tracker ends its session; the peer stops
	c.admin("members", "--device", dev, "--folders", "photos")
	err, exited = lim.p.waitExit(30 * time.Second)
	if !exited || err == nil || !strings.Contains(lastRun(t, lim), "folder not shared") {
		t.Fatalf("narrowed peer: exited=%v err=%v, want an error exit saying the folder is not shared", exited, err)
	}
	writeFile(t, p1.dir, "b.txt", []byte("after narrowing"), 0o644)
	c.waitAll("b.txt on peer1", tree{"a.txt": want["a.txt"], "b.txt": fileEntry([]byte("after narrowing"), false)}, p1)
	if got, _ := readTree(lim.dir); got["b.txt"] != "" {
		t.Fatal("b.txt reached the narrowed peer")
	}

	// remove
	c.admin("members", "--device", dev, "--remove")
	if out := c.admin("members"); strings.Contains(out, dev) {
		t.Fatalf("removed member still listed:\n%s", out)
	}
	c.token = own
	c.peers = c.peers[:1]
	c.stopAll()
}
