package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs the dartsync binary once (a tool, not a daemon) and returns
// its standard output; it fails the test on a non-zero exit.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dartsync %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// keptVersion is one entry of `dartsync versions --json`.
type keptVersion struct {
	Path string    `json:"path"`
	Time time.Time `json:"time"`
	Size int64     `json:"size"`
	File string    `json:"file"`
}

// TestVersionsAndRestore (acceptance b of issue 11): a file replaced by a
// remote edit and a file deleted remotely are both kept in versions/ on
// every receiving peer, `dartsync versions` lists them, and `dartsync
// restore` brings the deleted one back on every peer, both with the peer
// running and with it stopped.
func TestVersionsAndRestore(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2, p3 := c.peers[0], c.peers[1], c.peers[2]

	v1 := randomBytes(t, 3*pieceSize+17) // several pieces: the one-file apply
	small := []byte("a small file: applied in a batch\n")
	gone := randomBytes(t, 2*pieceSize)
	writeFile(t, p1.dir, "docs/edited.bin", v1, 0o644)
	writeFile(t, p1.dir, "docs/small.txt", small, 0o644)
	writeFile(t, p1.dir, "gone dir/gone.bin", gone, 0o755)
	want := c.snapshot(p1)
	c.waitAll("initial sync", want)

	v2 := randomBytes(t, 2*pieceSize+5)
	small2 := []byte("the small file, edited\n")
	writeFile(t, p1.dir, "docs/edited.bin", v2, 0o644)
	writeFile(t, p1.dir, "docs/small.txt", small2, 0o644)
	if err := os.Remove(filepath.Join(p1.dir, "gone dir", "gone.bin")); err != nil {
		t.Fatal(err)
	}
	afterEdit := c.snapshot(p1)
	c.waitAll("remote edit and delete", afterEdit)

	// Every receiver kept the old bytes; the editor kept nothing.
	for _, pp := range []*peerProc{p2, p3} {
		list := listVersions(t, pp, "")
		for rel, data := range map[string][]byte{"docs/edited.bin": v1, "docs/small.txt": small, "gone dir/gone.bin": gone} {
			if !holds(list, rel, data) {
				t.Errorf("%s: versions lack the old %s: %+v", pp.name, rel, list)
			}
		}
		if len(list) != 3 {
			t.Errorf("%s: %d versions kept, want 3: %+v", pp.name, len(list), list)
		}
	}
	if list := listVersions(t, p1, ""); len(list) != 0 {
		t.Errorf("%s kept versions of its own edits: %+v", p1.name, list)
	}
	// The human listing names them too, with a time --at accepts.
	out := runCLI(t, "versions", "--dir", p2.dir)
	for _, rel := range []string{"docs/edited.bin", "docs/small.txt", "gone dir/gone.bin"} {
		if !strings.Contains(out, rel+"\n") {
			t.Errorf("dartsync versions lacks %s:\n%s", rel, out)
		}
	}
	if out := runCLI(t, "versions", "--dir", p2.dir, "docs/small.txt"); strings.Count(out, "\n") != 2 {
		t.Errorf("dartsync versions docs/small.txt:\n%s", out)
	}

	// Restore the deleted file on p2 while it runs: back on every peer,
	// as the newest version.
	out = runCLI(t, "restore", "--dir", p2.dir, "gone dir/gone.bin")
	if !strings.Contains(out, "restored gone dir/gone.bin") {
		t.Errorf("dartsync restore said:\n%s", out)
	}
	afterRestore := c.snapshot(p2)
	if afterRestore["gone dir/gone.bin"] != want["gone dir/gone.bin"] {
		t.Fatalf("restored %q, want %q", afterRestore["gone dir/gone.bin"], want["gone dir/gone.bin"])
	}
	c.waitAll("restored file", afterRestore)

	// Restore the edited file's old version on p3 while it is stopped,
	// with --at as the listing prints it: its next start reports it.
	p3.p.stop()
	kept := listVersions(t, p3, "docs/edited.bin")
	if len(kept) != 1 {
		t.Fatalf("%s: versions of docs/edited.bin: %+v", p3.name, kept)
	}
	runCLI(t, "restore", "--dir", p3.dir, "docs/edited.bin", "--at", kept[0].Time.Local().Format(time.RFC3339))
	c.startPeer(p3, false)
	afterRestore["docs/edited.bin"] = want["docs/edited.bin"]
	c.waitAll("old version restored on a stopped peer", afterRestore)
	// p3 kept the v2 it replaced, p1 and p2 the v2 the restore replaced.
	for _, pp := range c.peers {
		if !holds(listVersions(t, pp, "docs/edited.bin"), "docs/edited.bin", v2) {
			t.Errorf("%s did not keep the version the restore replaced", pp.name)
		}
	}
}

// listVersions runs `dartsync versions --json` on pp's folder.
func listVersions(t *testing.T, pp *peerProc, rel string) []keptVersion {
	t.Helper()
	args := []string{"versions", "--dir", pp.dir, "--json"}
	if rel != "" {
		args = append(args, rel)
	}
	var list []keptVersion
	if err := json.Unmarshal([]byte(runCLI(t, args...)), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

// holds reports whether list has a version of rel with content data.
func holds(list []keptVersion, rel string, data []byte) bool {
	for _, v := range list {
		if v.Path != rel || v.Size != int64(len(data)) {
			continue
		}
		if b, err := os.ReadFile(v.File); err == nil && string(b) == string(data) {
			return true
		}
	}
	return false
}
