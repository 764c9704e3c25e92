package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// folderPeer is a peer process syncing several folders (docs/FOLDERS.md).
type folderPeer struct {
	name   string
	dirs   map[string]string // folder name -> directory
	states map[string]string // folder name -> state directory (stats.json)
	p      *proc
}

// waitScanned waits until every folder of fp has finished a scan (it
// registered with the tracker first).
func (fp *folderPeer) waitScanned(t *testing.T) {
	t.Helper()
	for name, st := range fp.states {
		eventually(t, 30*time.Second, fp.name+" folder "+name+" registered", func() (bool, string) {
			s, err := readStats(st)
			if err != nil {
				return false, err.Error()
			}
			return s.ScansCompleted > 0, fmt.Sprintf("%d scans", s.ScansCompleted)
		})
	}
}

// peerFlags are the test timings every folder peer runs with.
func peerFlags(port int) []string {
	return []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--debounce", "100ms", "--debug-retry", "300ms", "--rescan", "30s", "--debug-stats-every", "50ms"}
}

// waitTree waits until dir holds exactly want.
func waitTree(t *testing.T, what, dir string, want tree) {
	t.Helper()
	eventually(t, syncWait, what, func() (bool, string) {
		got, err := readTree(dir)
		if err != nil {
			return false, err.Error()
		}
		d := diff(got, want)
		return d == "", d
	})
}

// TestSeveralFolders: two folders on three peers. A and B share work and
// photos, C only photos. A runs with two --dir flags and no --state (each
// folder's state in DIR/.dartsync, one identity copied between them); B
// is started with only `dartsync peer --config FILE`; C has --state. Files
// sync per folder and no file or name crosses folders on disk. C joins
// with a token limited to photos and lists work too: the tracker refuses
// work, which pauses alone (stats.json says why) and gets nothing, while
// photos syncs. On the wire, A's piece server gives C pieces of photos
// only. B, restarted as `dartsync peer` alone (its default config file),
// syncs both folders again.
func TestSeveralFolders(t *testing.T) {
	c := newCluster(t, 0)
	base := c.base

	// A: two folders, state in each folder
	a := &folderPeer{name: "A",
		dirs: map[string]string{"work": filepath.Join(base, "A", "work"), "photos": filepath.Join(base, "A", "my photos")}}
	a.states = map[string]string{"work": filepath.Join(a.dirs["work"], ".dartsync"), "photos": filepath.Join(a.dirs["photos"], ".dartsync")}
	aPort := freePort(t)
	a.p = start(t, base, "A", append([]string{"peer", "--dir", "work=" + a.dirs["work"], "--dir", "photos=" + a.dirs["photos"],
		"--tracker", c.addr, "--token", c.token}, peerFlags(aPort)...)...)
	a.waitScanned(t)

	// B: everything in a config file
	b := &folderPeer{name: "B",
		dirs: map[string]string{"work": filepath.Join(base, "B", "work"), "photos": filepath.Join(base, "B", "photos")}}
	bState := filepath.Join(base, "B", "state")
	b.states = map[string]string{"work": filepath.Join(bState, "folders", "work"), "photos": filepath.Join(bState, "folders", "photos")}
	conf := map[string]any{
		"dir":     []string{"work=" + b.dirs["work"], "photos=" + b.dirs["photos"]},
		"state":   bState,
		"tracker": c.addr, "token": c.token,
		"listen":   fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"debounce": "100ms", "debug-retry": "300ms", "rescan": "30s", "debug-stats-every": "50ms",
	}
	confPath := filepath.Join(base, "B", "dartsync.json")
	writeJSONFile(t, confPath, conf)
	b.p = start(t, base, "B", "peer", "--config", confPath)
	b.waitScanned(t)

	// C: a token limited to photos; it lists work too, which the tracker
	// refuses: work pauses alone, saying why, and photos syncs
	limited := strings.TrimSpace(c.admin("token", "--folders", "photos", "--expires", "1h"))
	c3 := &folderPeer{name: "C", dirs: map[string]string{"photos": filepath.Join(base, "C", "photos")}}
	cWork := filepath.Join(base, "C", "work")
	cState := filepath.Join(base, "C", "state")
	c3.states = map[string]string{"photos": filepath.Join(cState, "folders", "photos")}
	c3.p = start(t, base, "C", append([]string{"peer", "--dir", "photos=" + c3.dirs["photos"], "--dir", "work=" + cWork,
		"--state", cState, "--tracker", c.addr, "--token", limited}, peerFlags(freePort(t))...)...)
	c3.waitScanned(t)
	eventually(t, 30*time.Second, "C's work paused, not shared", func() (bool, string) {
		var st struct {
			Paused bool   `json:"paused"`
			Reason string `json:"paused_reason"`
		}
		err := readStatsJSON(filepath.Join(cState, "folders", "work"), &st)
		return err == nil && st.Paused && strings.Contains(st.Reason, "not shared"), fmt.Sprintf("%+v %v", st, err)
	})

	same := randomBytes(t, 3*pieceSize+17) // the same bytes in both folders
	writeFile(t, a.dirs["work"], "report.txt", []byte("work only\n"), 0o644)
	writeFile(t, a.dirs["work"], "deep/same.bin", same, 0o644)
	writeFile(t, a.dirs["photos"], "holiday/beach.jpg", randomBytes(t, 2*pieceSize), 0o644)
	writeFile(t, a.dirs["photos"], "same.bin", same, 0o644)
	writeFile(t, c3.dirs["photos"], "from C.jpg", randomBytes(t, pieceSize+5), 0o644)
	writeFile(t, b.dirs["work"], "from B.txt", []byte("B's work\n"), 0o644)

	wantWork := tree{
		"report.txt": fileEntry([]byte("work only\n"), false), "deep": "dir", "deep/same.bin": fileEntry(same, false),
		"from B.txt": fileEntry([]byte("B's work\n"), false),
	}
	waitTree(t, "work on A", a.dirs["work"], wantWork)
	waitTree(t, "work on B", b.dirs["work"], wantWork)
	var wantPhotos tree
	eventually(t, syncWait, "C's photo on A", func() (bool, string) {
		got, err := readTree(a.dirs["photos"])
		if err != nil {
			return false, err.Error()
		}
		wantPhotos = got
		_, ok := got["from C.jpg"]
		return ok, "not yet"
	})
	for _, fp := range []*folderPeer{b, c3} {
		waitTree(t, "photos on "+fp.name, fp.dirs["photos"], wantPhotos)
	}
	if len(wantPhotos) != 4 { // holiday, holiday/beach.jpg, same.bin, from C.jpg: nothing of work
		t.Errorf("photos holds %d entries, want 4: %v", len(wantPhotos), wantPhotos)
	}
	for p := range wantPhotos {
		if _, ok := wantWork[p]; ok && p != "same.bin" {
			t.Errorf("%s is in both folders", p)
		}
	}
	// dartsync status on either folder of C reaches the one peer, which
	// shows both folders: photos syncing, work paused with the reason
	for _, dir := range []string{c3.dirs["photos"], cWork} {
		st, err := statusJSON(t, dir)
		if err != nil {
			t.Fatalf("status --dir %s: %v", dir, err)
		}
		states := map[string]string{}
		for _, f := range st.Folders {
			states[f.Name] = string(f.State) + " " + f.Reason
		}
		if len(st.Folders) != 2 || strings.HasPrefix(states["photos"], "paused") || !strings.Contains(states["work"], "not shared") {
			t.Errorf("status --dir %s: folders %q", dir, states)
		}
	}
	// work is not shared with C: nothing of it arrived on C
	if got, err := readTree(cWork); err != nil || len(got) != 0 {
		t.Errorf("C's work holds %v (%v)", got, err)
	}
	if l := grepLines(lastRunOf(a.p.log.Name()), "refused a request"); l != "" {
		t.Errorf("A refused piece requests (a request for the wrong folder was sent):\n%s", l)
	}
	// on the wire: A serves C photos' pieces only
	aID, err := identity.LoadOrCreate(a.states["work"])
	if err != nil {
		t.Fatal(err)
	}
	photoData, err := os.ReadFile(filepath.Join(a.dirs["photos"], "from C.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	checkPiecesPerFolder(t, fmt.Sprintf("127.0.0.1:%d", aPort), aID.ID, bState, cState,
		[]byte("work only\n"), photoData[:pieceSize])

	// one identity for A's two folders
	k1, err1 := os.ReadFile(filepath.Join(a.states["work"], "key.pem"))
	k2, err2 := os.ReadFile(filepath.Join(a.states["photos"], "key.pem"))
	if err1 != nil || err2 != nil || string(k1) != string(k2) {
		t.Errorf("A's folders hold different identities (%v, %v)", err1, err2)
	}
	for _, fp := range []*folderPeer{a, b, c3} {
		if l := grepLines(lastRunOf(fp.p.log.Name()), "level=ERROR"); l != "" {
			t.Errorf("%s logged errors:\n%s", fp.name, l)
		}
	}

	// after the first join, B runs as `dartsync peer` alone: the same file
	// (without the token) as the default config file of its user
	b.p.stop()
	delete(conf, "token")
	delete(conf, "tracker")
	configHome := filepath.Join(base, "B", "config home")
	writeJSONFile(t, filepath.Join(configHome, "dartsync", "config.json"), conf)
	b.p = startEnv(t, base, "B", []string{"XDG_CONFIG_HOME=" + configHome}, "peer")
	writeFile(t, a.dirs["work"], "later.txt", []byte("after B's restart\n"), 0o644)
	writeFile(t, a.dirs["photos"], "later.jpg", []byte("after B's restart\n"), 0o644)
	eventually(t, syncWait, "B syncs both folders after a restart as `dartsync peer`", func() (bool, string) {
		w, err1 := os.ReadFile(filepath.Join(b.dirs["work"], "later.txt"))
		p, err2 := os.ReadFile(filepath.Join(b.dirs["photos"], "later.jpg"))
		return err1 == nil && err2 == nil && len(w) > 0 && len(p) > 0, fmt.Sprint(err1, err2)
	})
	for _, fp := range []*folderPeer{a, b, c3} {
		fp.p.stop()
	}
	c.tracker.stop()
}

// TestSingleFolderUpgradedToSeveral: a peer of the default folder (a bare
// --dir with --state, as before folder names) keeps syncing it with an
// unchanged peer after a folder is added to its command line, and syncs
// the new folder with a third peer that has only that one.
func TestSingleFolderUpgradedToSeveral(t *testing.T) {
	c := newCluster(t, 2)
	p1, p2 := c.peers[0], c.peers[1]
	writeFile(t, p1.dir, "old.txt", []byte("before the upgrade\n"), 0o644)
	c.waitAll("before the upgrade", c.snapshot(p1))

	p1.p.stop()
	work := filepath.Join(c.base, p1.name, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	c.startPeer(p1, false, "--dir", "work="+work)
	workState := filepath.Join(p1.state, "folders", "work")
	eventually(t, 30*time.Second, "p1's work registered", func() (bool, string) {
		s, err := readStats(workState)
		return err == nil && s.ScansCompleted > 0, fmt.Sprint(err)
	})

	n := &folderPeer{name: "N", dirs: map[string]string{"work": filepath.Join(c.base, "N", "work")}}
	n.states = map[string]string{"work": filepath.Join(c.base, "N", "work", ".dartsync")}
	n.p = start(t, c.base, "N", append([]string{"peer", "--dir", "work=" + n.dirs["work"],
		"--tracker", c.addr, "--token", c.token}, peerFlags(freePort(t))...)...)
	n.waitScanned(t)

	writeFile(t, p2.dir, "after.txt", []byte("after the upgrade\n"), 0o644)
	writeFile(t, work, "w.txt", []byte("new folder\n"), 0o644)
	c.waitAll("default folder after the upgrade", c.snapshot(p2))
	waitTree(t, "work on N", n.dirs["work"], tree{"w.txt": fileEntry([]byte("new folder\n"), false)})
	if got := c.snapshot(p1); got["w.txt"] != "" {
		t.Errorf("work's file in the default folder: %v", got)
	}
	n.p.stop()
	c.stopAll()
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lastRunOf returns a log file's text since its last start.
func lastRunOf(path string) string {
	b, _ := os.ReadFile(path)
	s := string(b)
	if i := strings.LastIndex(s, "==== start"); i >= 0 {
		s = s[i:]
	}
	return s
}
