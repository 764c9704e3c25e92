package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// ignoreFile is peer/ignore.FileName (the e2e tests use only the binary).
const ignoreFile = ".dartsyncignore"

// TestIgnoredFilesStayLocal runs a tracker and two peers: p1 with the
// default ignore patterns, p2 with --no-default-ignores. It checks that
//
//   - (a) files the ignore file or the defaults name never leave p1: p1
//     never reports them, and p2 (which ignores no temporary file) never
//     gets them;
//   - (b) a remote version of an ignored path does not touch the local
//     file: both peers ignore x.log and each keeps its own; p2 syncs y.tmp,
//     which p1 ignores, and p1 keeps its own y.tmp; deleting it on p2
//     leaves p1's;
//   - (c) an ignore file written together with the files it names keeps
//     them local;
//   - (d) editing the ignore file at run time un-ignores a file, which
//     then syncs.
func TestIgnoredFilesStayLocal(t *testing.T) {
	c := newCluster(t, 0)
	// A longer debounce on p1, so that a busy machine cannot stretch (c)'s
	// "same moment" past it; no completion hints, which would report a file
	// closed before the ignore file that names it at once.
	p1 := c.addPeer("peer1", "--debounce", "500ms", "--settle", "0")
	rules := []byte("# local only\n*.log\nbuild/\ndraft.txt\n")
	for rel, data := range map[string][]byte{
		ignoreFile: rules, "doc.txt": []byte("shared"), "x.log": []byte("p1's log"), "build/out.bin": randomBytes(t, 100<<10),
		"draft.txt": []byte("not yet"), "notes.txt.swp": []byte("vim"), ".DS_Store": []byte("finder"), "y.tmp": []byte("p1's tmp"),
	} {
		writeFile(t, p1.dir, rel, data, 0o644)
	}
	p2 := c.addPeer("peer2", "--no-default-ignores")
	waitFile(t, p2, "doc.txt", []byte("shared"))
	waitFile(t, p2, ignoreFile, rules)

	// (b): p2 ignores x.log too now (the ignore file synced); each peer
	// writes its own, p2 writes y.tmp (which p1 ignores).
	writeFile(t, p2.dir, "x.log", []byte("p2's log"), 0o644)
	writeFile(t, p1.dir, "x.log", []byte("p1's log, longer"), 0o644)
	writeFile(t, p2.dir, "y.tmp", []byte("p2's tmp"), 0o644)
	// (c): the ignore file and the files it names, in one moment.
	rules = append(rules, "secret/\n"...)
	writeFile(t, p1.dir, "secret/key.pem", []byte("private"), 0o600)
	writeFile(t, p1.dir, ignoreFile, rules, 0o644)
	writeFile(t, p1.dir, "secret/more/token", []byte("private too"), 0o600)
	syncMark(t, p1, p2, "m1.txt")
	syncMark(t, p2, p1, "m2.txt")
	waitFile(t, p2, ignoreFile, rules)

	for _, f := range []struct {
		pp   *peerProc
		rel  string
		want []byte // nil: absent
	}{
		{p2, "x.log", []byte("p2's log")},
		{p1, "x.log", []byte("p1's log, longer")},
		{p2, "build", nil},
		{p2, "draft.txt", nil},
		{p2, "notes.txt.swp", nil},
		{p2, ".DS_Store", nil},
		{p2, "secret", nil},
		{p2, "y.tmp", []byte("p2's tmp")},
		{p1, "y.tmp", []byte("p1's tmp")},
	} {
		checkFile(t, f.pp, f.rel, f.want)
	}
	for _, pp := range []*peerProc{p1, p2} {
		for _, p := range reported(t, pp) {
			if !slices.Contains([]string{ignoreFile, "doc.txt", "m1.txt", "m2.txt", "y.tmp", "draft.txt"}, p) {
				t.Errorf("%s reported ignored path %s", pp.name, p)
			}
		}
	}
	if slices.Contains(reported(t, p1), "y.tmp") || slices.Contains(reported(t, p1), "draft.txt") {
		t.Errorf("p1 reported a path it ignores: %q", reported(t, p1))
	}

	// A deletion of a path p1 ignores leaves p1's file.
	if err := os.Remove(filepath.Join(p2.dir, "y.tmp")); err != nil {
		t.Fatal(err)
	}
	syncMark(t, p2, p1, "m3.txt")
	checkFile(t, p1, "y.tmp", []byte("p1's tmp"))

	// (d): draft.txt un-ignored at run time: it syncs.
	rules = bytes.ReplaceAll(rules, []byte("draft.txt\n"), nil)
	writeFile(t, p1.dir, ignoreFile, rules, 0o644)
	waitFile(t, p2, "draft.txt", []byte("not yet"))
	waitFile(t, p2, ignoreFile, rules)
	checkFile(t, p2, "secret", nil)
	checkFile(t, p2, "x.log", []byte("p2's log"))
	t.Logf("reported: %s %q, %s %q", p1.name, reported(t, p1), p2.name, reported(t, p2))
	c.stopAll()
}

// syncMark writes rel on from and waits for it on to: what from reported
// before has reached to.
func syncMark(t *testing.T, from, to *peerProc, rel string) {
	t.Helper()
	data := []byte(rel + " from " + from.name)
	writeFile(t, from.dir, rel, data, 0o644)
	waitFile(t, to, rel, data)
}

// waitFile waits until pp's rel holds data.
func waitFile(t *testing.T, pp *peerProc, rel string, data []byte) {
	t.Helper()
	eventually(t, syncWait, rel+" on "+pp.name, func() (bool, string) {
		b, err := os.ReadFile(filepath.Join(pp.dir, filepath.FromSlash(rel)))
		if err != nil {
			return false, err.Error()
		}
		return bytes.Equal(b, data), strconv.Quote(string(b))
	})
}

// checkFile checks that pp's rel holds want (nil: is absent).
func checkFile(t *testing.T, pp *peerProc, rel string, want []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pp.dir, filepath.FromSlash(rel)))
	switch {
	case want == nil && !os.IsNotExist(err):
		t.Errorf("%s: %s present (%v), want it absent", pp.name, rel, err)
	case want != nil && (err != nil || !bytes.Equal(b, want)):
		t.Errorf("%s: %s = %q (%v), want %q", pp.name, rel, b, err, want)
	}
}

// reported lists the paths pp's log says it reported to the tracker.
func reported(t *testing.T, pp *peerProc) []string {
	t.Helper()
	b, err := os.ReadFile(pp.p.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	localChange := regexp.MustCompile(`msg="local change" path=("(?:[^"\\]|\\.)*"|\S+)`)
	var out []string
	for _, m := range localChange.FindAllStringSubmatch(string(b), -1) {
		p := m[1]
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		}
		out = append(out, p)
	}
	return out
}
