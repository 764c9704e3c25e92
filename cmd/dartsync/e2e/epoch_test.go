package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// How the tracker's state goes back in the tests below.
type stateLoss int

const (
	restoredBackup stateLoss = iota // replaced by a copy taken earlier
	stateDeleted                    // lost: a new state (and identity) at the same address
	trackerKilled                   // SIGKILL: the epoch did not end cleanly, but the state holds all of it
)

// TestTrackerRestoredFromBackup is acceptance test (a) of issue 11: the
// tracker's state is copied; then peer1 edits a file (one of them twice)
// and creates one, peer2 deletes one (one after editing it) and creates
// one; then the state is replaced by the copy. No peer changes any file, a
// peer that joins afterwards gets exactly the newest state, and a change
// made afterwards reaches everyone.
func TestTrackerRestoredFromBackup(t *testing.T) { trackerGoesBack(t, restoredBackup) }

// TestTrackerStateDeleted is the same with the tracker's state deleted: it
// starts afresh with a new identity, the peers stop (the tracker is not the
// one they joined) and are joined again with the new token.
func TestTrackerStateDeleted(t *testing.T) { trackerGoesBack(t, stateDeleted) }

// TestTrackerKilled is the same with the tracker killed and restarted on its
// own state: the peers resume without re-announcing (the state holds all
// they heard of), and nothing changes.
func TestTrackerKilled(t *testing.T) { trackerGoesBack(t, trackerKilled) }

func trackerGoesBack(t *testing.T, loss stateLoss) {
	c := newCluster(t, 2)
	p1, p2 := c.peers[0], c.peers[1]
	tstate := filepath.Join(c.base, "tracker")
	want := tree{"dir": "dir"}
	put := func(pp *peerProc, rel, data string) {
		t.Helper()
		writeFile(t, pp.dir, rel, []byte(data), 0o644)
		want[rel] = fileEntry([]byte(data), false)
	}
	remove := func(pp *peerProc, rel string) {
		t.Helper()
		if err := os.Remove(filepath.Join(pp.dir, rel)); err != nil {
			t.Fatal(err)
		}
		delete(want, rel)
	}
	put(p1, "keep.txt", "kept as it is\n")
	put(p1, "edit-once.txt", "version 0 of edit-once\n")
	put(p1, "edit-twice.txt", "version 0 of edit-twice\n")
	put(p1, "gone.txt", "deleted after the backup\n")
	put(p1, "edit-then-delete.txt", "version 0 of edit-then-delete\n")
	put(p1, "dir/inner.txt", "inside a directory\n")
	c.waitAll("initial sync", want)

	// The backup: a copy of the stopped tracker's state directory.
	backup := filepath.Join(c.base, "tracker-backup")
	c.tracker.stop()
	copyTree(t, tstate, backup)
	c.restartTracker()

	put(p1, "edit-once.txt", "version 1 of edit-once, after the backup\n")
	put(p1, "edit-twice.txt", "version 1 of edit-twice\n")
	put(p1, "new-on-peer1.txt", "created on peer1 after the backup\n")
	put(p2, "edit-then-delete.txt", "version 1 of edit-then-delete\n")
	remove(p2, "gone.txt")
	put(p2, "new-on-peer2.txt", "created on peer2 after the backup\n")
	c.waitAll("first changes after the backup", want)
	put(p1, "edit-twice.txt", "version 2 of edit-twice\n")
	remove(p2, "edit-then-delete.txt")
	c.waitAll("changes after the backup", want)
	before := map[*peerProc]map[string]int64{p1: settledCounters(t, p1, changeKeys...), p2: settledCounters(t, p2, changeKeys...)}
	done := map[*peerProc]int{p1: reannounceDone(t, p1), p2: reannounceDone(t, p2)}
	regs := map[*peerProc]int{p1: registrations(t, p1), p2: registrations(t, p2)}

	// The tracker's state goes back.
	switch loss {
	case restoredBackup:
		c.tracker.stop()
		if err := os.RemoveAll(tstate); err != nil {
			t.Fatal(err)
		}
		copyTree(t, backup, tstate)
		c.restartTracker()
	case trackerKilled:
		c.tracker.kill()
		c.restartTracker()
	case stateDeleted:
		c.tracker.stop()
		if err := os.RemoveAll(tstate); err != nil {
			t.Fatal(err)
		}
		old := c.token
		c.restartTracker()
		if c.token == old {
			t.Fatal("a tracker started on an empty state directory kept its join token")
		}
		// The running peers stop: the tracker is not the one they joined.
		// The message says how to join again; the user does exactly that.
		for _, pp := range []*peerProc{p1, p2} {
			err, ok := pp.p.waitExit(60 * time.Second)
			if !ok {
				t.Fatalf("%s still runs against a tracker of another identity", pp.name)
			}
			if log := lastRun(t, pp); err == nil || !strings.Contains(log, "--tracker HOST:PORT --token-file") {
				t.Fatalf("%s: exit %v; log:\n%s", pp.name, err, grepLines(log, "tracker"))
			}
		}
		for _, pp := range []*peerProc{p1, p2} {
			c.startPeer(pp, true) // --tracker ADDR --token NEW_TOKEN, same folder and state
			before[pp], done[pp] = map[string]int64{}, 0
			eventually(t, syncWait, pp.name+" re-announced", func() (bool, string) {
				return reannounceDone(t, pp) > 0, "no re-announce yet"
			})
		}
	}
	for _, pp := range []*peerProc{p1, p2} {
		if loss == trackerKilled {
			eventually(t, syncWait, pp.name+" registered again", func() (bool, string) {
				return registrations(t, pp) > regs[pp], "not registered again yet"
			})
			log := lastRun(t, pp)
			if n := reannounceDone(t, pp); n != done[pp] || strings.Contains(log[strings.LastIndex(log, "registered with tracker"):], "reannounce=true") {
				t.Errorf("%s re-announced to a tracker restarted on its own state:\n%s", pp.name, grepLines(log, "registered with tracker"))
			}
			continue
		}
		eventually(t, syncWait, pp.name+" re-announced", func() (bool, string) {
			return reannounceDone(t, pp) > done[pp], "no re-announce yet"
		})
		log := lastRun(t, pp)
		lines := grepLines(log, "re-announce done: ")
		last := lines[strings.LastIndex(lines, "re-announce done: "):]
		if !strings.Contains(last, "outdated 0, conflicts 0, rejected 0") {
			t.Errorf("%s: %s", pp.name, last)
		}
		t.Logf("%s: %s", pp.name, strings.SplitN(last, `"`, 2)[0])
	}

	// No peer changes any file: the folders and the apply, delete and
	// conflict counters stay put for a while.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		for _, pp := range []*peerProc{p1, p2} {
			got, err := readTree(pp.dir)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, want); d != "" {
				t.Fatalf("%s changed after the tracker went back: %s", pp.name, d)
			}
			s, err := readCounters(pp.state, changeKeys...)
			if err != nil {
				continue // being rewritten
			}
			for _, k := range changeKeys {
				if s[k] != before[pp][k] {
					t.Fatalf("%s: %s went from %d to %d after the tracker went back", pp.name, k, before[pp][k], s[k])
				}
			}
		}
	}

	// A peer that joins now gets exactly the newest state.
	p3 := c.addPeer("peer3")
	c.waitAll("late joiner", want, p3)

	// A change made now reaches everyone.
	put(p2, "keep.txt", "changed after the tracker went back\n")
	c.waitAll("change after the tracker went back", want)
	c.stopAll()
}

// reannounceDone counts the "re-announce done" lines of pp's current run.
func reannounceDone(t *testing.T, pp *peerProc) int {
	t.Helper()
	return strings.Count(lastRun(t, pp), "re-announce done: ")
}

// registrations counts the "registered with tracker" lines of pp's current
// run.
func registrations(t *testing.T, pp *peerProc) int {
	t.Helper()
	return strings.Count(lastRun(t, pp), "registered with tracker")
}

// copyTree copies the regular files of src into dst (created).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
