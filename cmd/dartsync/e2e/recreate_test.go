package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRecreatedContentSyncs: a file, an empty file and an empty directory
// deleted and then created again with exactly the same content (and
// modification time, as a restore from the trash does) reach every peer
// again: re-created on the peer that deleted them, on a peer that only saw
// the deletion, and again and again (each deletion of the same content is
// the same tombstone). Nothing else appears (no conflict copies).
func TestRecreatedContentSyncs(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2, p3 := c.peers[0], c.peers[1], c.peers[2]
	content := []byte("the same bytes every time\n")
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	create := func(pp *peerProc) {
		t.Helper()
		writeFile(t, pp.dir, "docs/report.txt", content, 0o644)
		writeFile(t, pp.dir, "docs/empty", nil, 0o644)
		if err := os.MkdirAll(filepath.Join(pp.dir, "docs/empty dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, rel := range []string{"docs/report.txt", "docs/empty"} {
			setMtime(t, filepath.Join(pp.dir, filepath.FromSlash(rel)), mtime)
		}
	}
	remove := func(pp *peerProc) {
		t.Helper()
		for _, rel := range []string{"docs/report.txt", "docs/empty", "docs/empty dir"} {
			if err := os.Remove(filepath.Join(pp.dir, filepath.FromSlash(rel))); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeFile(t, p1.dir, "docs/keep.txt", []byte("stays\n"), 0o644)
	create(p1)
	full := c.snapshot(p1)
	if len(full) != 5 {
		t.Fatalf("fixture: %d paths, want 5: %v", len(full), full)
	}
	c.waitAll("initial sync", full)
	without := tree{"docs": "dir", "docs/keep.txt": full["docs/keep.txt"]}

	rounds := []struct{ deleter, creator *peerProc }{
		{p1, p1}, // re-created where it was deleted
		{p2, p3}, // re-created by a peer that only saw the deletion
		{p3, p3},
		{p1, p2},
		{p1, p1}, // the same tombstones once more
	}
	for i, r := range rounds {
		remove(r.deleter)
		c.waitAll(fmt.Sprintf("round %d: deleted on %s", i+1, r.deleter.name), without)
		create(r.creator)
		if got := c.snapshot(r.creator); diff(got, full) != "" {
			t.Fatalf("fixture: re-created tree differs: %s", diff(got, full))
		}
		c.waitAll(fmt.Sprintf("round %d: re-created on %s", i+1, r.creator.name), full)
	}
	// The first peer saw everything settle: nothing more arrives.
	for _, pp := range c.peers {
		settledStats(t, pp)
	}
	c.waitAll("final", full)
}

// TestGitRepositoryInFolder: a git repository inside a synced folder,
// switched between two branches that add, delete and modify files (about
// 150 of them) several times, then garbage-collected, ends identical on the
// other peer, .git included: `git status` is clean there and `git fsck`
// passes. First as a person works, with the default debounce (1 s) and a
// second or two between checkouts; then faster than a person, with checkouts
// 150-350 ms apart and a 100 ms debounce, so scans see checkouts half done.
func TestGitRepositoryInFolder(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	tests := []struct {
		name      string
		debounce  string
		pace, odd time.Duration // between checkouts: pace, plus odd after every other one
	}{
		{"default debounce, a person's pace", "1s", time.Second, time.Second},
		{"short debounce, fast checkouts", "100ms", 150 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { gitBackAndForth(t, tt.debounce, tt.pace, tt.odd) })
	}
}

func gitBackAndForth(t *testing.T, debounce string, pace, odd time.Duration) {
	c := newCluster(t, 0)
	for i := 1; i <= 2; i++ {
		c.addPeer(fmt.Sprintf("peer%d", i), "--debounce", debounce)
	}
	p1, p2 := c.peers[0], c.peers[1]
	repo1, repo2 := filepath.Join(p1.dir, "repo"), filepath.Join(p2.dir, "repo")
	if err := os.MkdirAll(repo1, 0o755); err != nil {
		t.Fatal(err)
	}
	gitIn(t, repo1, "init", "-q", "-b", "main")

	// main: 120 files in 6 directories (one empty file per directory).
	for d := range 6 {
		for f := range 20 {
			body := fmt.Sprintf("main d%d f%d\n%s", d, f, strings.Repeat("line of text\n", f*7))
			if f == 0 {
				body = ""
			}
			writeFile(t, repo1, fmt.Sprintf("src/d%d/f%02d.txt", d, f), []byte(body), 0o644)
		}
	}
	writeFile(t, repo1, "tools/build.sh", []byte("#!/bin/sh\necho build\n"), 0o755)
	gitIn(t, repo1, "add", "-A")
	gitIn(t, repo1, "commit", "-q", "-m", "main")

	// other: d0 deleted (a whole directory), every third file of d1..d3
	// modified, the f19 files deleted, new files in new directories (one of
	// them with the bytes of a deleted file), and the script changed.
	gitIn(t, repo1, "checkout", "-q", "-b", "other")
	if err := os.RemoveAll(filepath.Join(repo1, "src/d0")); err != nil {
		t.Fatal(err)
	}
	for d := 1; d < 6; d++ {
		if err := os.Remove(filepath.Join(repo1, fmt.Sprintf("src/d%d/f19.txt", d))); err != nil {
			t.Fatal(err)
		}
		for f := 1; f < 19; f += 3 {
			if d <= 3 {
				writeFile(t, repo1, fmt.Sprintf("src/d%d/f%02d.txt", d, f), []byte(fmt.Sprintf("other d%d f%d\n", d, f)), 0o644)
			}
		}
	}
	for n := range 40 {
		writeFile(t, repo1, fmt.Sprintf("new/n%d/file%02d.txt", n%4, n), []byte(fmt.Sprintf("new file %d\n", n)), 0o644)
	}
	writeFile(t, repo1, "moved/f05.txt", []byte(fmt.Sprintf("main d0 f5\n%s", strings.Repeat("line of text\n", 35))), 0o644)
	writeFile(t, repo1, "tools/build.sh", []byte("#!/bin/sh\necho build other\n"), 0o755)
	gitIn(t, repo1, "add", "-A")
	gitIn(t, repo1, "commit", "-q", "-m", "other")

	want := c.snapshot(p1)
	c.waitAll("repository on other", want, p2)

	// Back and forth.
	for i, branch := range []string{"main", "other", "main", "other", "main", "other", "main"} {
		gitIn(t, repo1, "checkout", "-q", branch)
		time.Sleep(pace + time.Duration(i%2)*odd) // the pace of the scenario, not a wait for a result
	}
	gitIn(t, repo1, "gc", "-q")
	if out := gitIn(t, repo1, "status", "--porcelain"); out != "" {
		t.Fatalf("fixture: first repository not clean: %s", out)
	}

	want = c.snapshot(p1)
	c.waitAll("repository after checkouts and gc", want, p2)
	for rel := range c.snapshot(p2) {
		if strings.Contains(rel, ".sync-conflict-") {
			t.Errorf("conflict copy %s", rel)
		}
	}
	if out := gitIn(t, repo2, "--no-optional-locks", "status", "--porcelain"); out != "" {
		t.Errorf("git status on %s not clean:\n%s", p2.name, out)
	}
	if head := gitIn(t, repo2, "rev-parse", "--abbrev-ref", "HEAD"); head != "main" {
		t.Errorf("HEAD on %s is %q, want main", p2.name, head)
	}
	gitIn(t, repo2, "fsck", "--full", "--strict")
	// Nothing came back to the first peer (git status with optional locks
	// off writes nothing).
	for _, pp := range c.peers {
		settledStats(t, pp)
	}
	if d := diff(c.snapshot(p1), want); d != "" {
		t.Errorf("first peer's folder changed after sync: %s", d)
	}
}

// gitIn runs git in dir and returns its trimmed output; it fails the test
// if git does.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.invalid",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.invalid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}
