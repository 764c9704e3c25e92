package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmptyMountPointDeletesNothing is acceptance test (a) of "absence is
// not deletion": a peer restarted while its disk is not mounted (its folder
// missing altogether, or an empty mount point in its place) must not take
// the missing files for deletions. The other peers keep every file; the
// restarted peer says it is paused, creates nothing in the folder, and once
// the disk is back it resumes: a change made elsewhere meanwhile, a change
// made on the disk meanwhile and one made after its return reach every
// peer.
func TestEmptyMountPointDeletesNothing(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2, p3 := c.peers[0], c.peers[1], c.peers[2]
	for i := range 40 {
		dir := []string{"docs", "photos/2024", "music/a b"}[i%3]
		size := 1000 + 97*i
		if i == 7 {
			size = 3*pieceSize + 5 // several pieces
		}
		writeFile(t, p1.dir, fmt.Sprintf("%s/f%02d.bin", dir, i), randomBytes(t, size), 0o644)
	}
	want := c.snapshot(p1)
	c.waitAll("initial sync", want)

	for round, v := range []struct {
		name  string
		mount bool // an empty directory stands where the folder was
	}{
		{"folder missing", false},
		{"empty mount point", true},
	} {
		p3.p.stop()
		disk := p3.dir + ".disk"
		if err := os.Rename(p3.dir, disk); err != nil {
			t.Fatal(err)
		}
		if v.mount {
			if err := os.Mkdir(p3.dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		logFrom := logSize(t, p3)
		c.launchPeer(p3, false)
		eventually(t, 30*time.Second, v.name+": "+p3.name+" registered and paused", func() (bool, string) {
			s, err := readStats(p3.state)
			if err != nil {
				return false, err.Error()
			}
			reg := strings.Contains(logSince(t, p3, logFrom), "registered with tracker")
			return s.Paused && reg, fmt.Sprintf("paused %v (%q), registered %v", s.Paused, s.PausedReason, reg)
		})
		// Well past the first scan a running peer makes after registering
		// (debounce 100 ms, retry 300 ms) and a few marker checks (2 s):
		// nothing is deleted anywhere, nothing is created in the folder.
		for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			for _, pp := range []*peerProc{p1, p2} {
				if d := diff(c.snapshot(pp), want); d != "" {
					t.Fatalf("%s: %s lost files while %s was paused: %s", v.name, pp.name, p3.name, d)
				}
			}
			checkUntouched(t, v.name, p3.dir, v.mount)
		}
		if s, err := readStats(p3.state); err != nil || s.LocalChanges != 0 || !s.Paused {
			t.Fatalf("%s: %s stats %+v, %v: want paused, no local change", v.name, p3.name, s, err)
		}
		if n := strings.Count(logSince(t, p3, logFrom), "folder paused"); n != 1 {
			t.Fatalf("%s: %d 'folder paused' lines in %s's log, want 1", v.name, n, p3.name)
		}

		// Meanwhile: an edit and a new file on p1, an edit on the disk.
		writeFile(t, p1.dir, "docs/f00.bin", []byte(fmt.Sprintf("edited on p1, round %d", round)), 0o644)
		writeFile(t, p1.dir, fmt.Sprintf("new on p1 %d.txt", round), []byte("new"), 0o644)
		writeFile(t, disk, "photos/2024/f01.bin", []byte(fmt.Sprintf("edited on the disk, round %d", round)), 0o644)
		want = c.snapshot(p1)
		c.waitAll(v.name+": p1's changes on p2", want, p2)
		checkUntouched(t, v.name, p3.dir, v.mount)

		// The disk is back.
		if v.mount {
			if err := os.Remove(p3.dir); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Rename(disk, p3.dir); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, v.name+": "+p3.name+" resumed", func() (bool, string) {
			s, err := readStats(p3.state)
			return err == nil && !s.Paused, fmt.Sprintf("%+v, %v", s, err)
		})
		want["photos/2024/f01.bin"] = fileEntry([]byte(fmt.Sprintf("edited on the disk, round %d", round)), false)
		c.waitAll(v.name+": converged after resume", want)
		// And it syncs as before.
		writeFile(t, p3.dir, fmt.Sprintf("music/a b/new on p3 %d.txt", round), []byte("p3"), 0o644)
		want = c.snapshot(p3)
		c.waitAll(v.name+": a change on the restored folder", want)
	}
	c.stopAll()
}

// checkUntouched fails unless dir is still missing (mount false) or still
// an empty directory (mount true).
func checkUntouched(t *testing.T, what, dir string, mount bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	switch {
	case !mount && !errors.Is(err, os.ErrNotExist):
		t.Fatalf("%s: the missing folder was created (%d entries, %v)", what, len(ents), err)
	case mount && (err != nil || len(ents) > 0):
		t.Fatalf("%s: something was created in the empty mount point: %d entries, %v", what, len(ents), err)
	}
}

// TestPeerWithoutIndexCreatesNothing: with the state directory inside the
// folder (the default), a folder on a disk that is not mounted has no index
// either; without a join token the peer refuses to start (exit status 2)
// and creates nothing: no folder, no state, no identity.
func TestPeerWithoutIndexCreatesNothing(t *testing.T) {
	base := t.TempDir()
	for _, args := range [][]string{
		{},
		{"--tracker", "127.0.0.1:9"},
	} {
		dir := filepath.Join(base, "unplugged", "folder")
		full := append([]string{"peer", "--dir", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t))}, args...)
		p := start(t, base, "peer", full...)
		err, ok := p.waitExit(30 * time.Second)
		if !ok {
			t.Fatalf("%v: still running after 30 s", args)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("%v: exit %v, want status 2", args, err)
		}
		if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v: something was created: %v", args, err)
		}
	}
	log, _ := os.ReadFile(filepath.Join(base, "peer.log"))
	if !strings.Contains(string(log), "not mounted") {
		t.Errorf("the exit message does not mention an unmounted disk:\n%s", log)
	}
}
