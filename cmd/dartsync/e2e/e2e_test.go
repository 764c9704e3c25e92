package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestEndToEnd(t *testing.T) {
	c := newCluster(t, 4)
	p1, p2, p3, p4 := c.peers[0], c.peers[1], c.peers[2], c.peers[3]

	// 1. New files of every interesting size, nested, with spaces and
	// non-ASCII names, an empty directory and an executable.
	bigData := randomBytes(t, large)
	writeFile(t, p1.dir, "a/b c/ünïcødé dir/zero", nil, 0o644)
	writeFile(t, p1.dir, "one", []byte("1"), 0o644)
	writeFile(t, p1.dir, "a/piece-1.bin", randomBytes(t, pieceSize-1), 0o644)
	writeFile(t, p1.dir, "a/piece+1.bin", randomBytes(t, pieceSize+1), 0o644)
	writeFile(t, p1.dir, "big dir/large 32.bin", bigData, 0o644)
	writeFile(t, p1.dir, "bin/run.sh", []byte("#!/bin/sh\necho hi\n"), 0o755)
	writeFile(t, p1.dir, "conflict.txt", []byte("original\n"), 0o644)
	if err := os.MkdirAll(filepath.Join(p1.dir, "empty dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := c.snapshot(p1)
	start := time.Now()
	c.waitAll("initial sync", want)
	t.Logf("initial sync of %d paths (32 MiB) to 3 peers: %v", len(want), time.Since(start))
	if !strings.Contains(want["bin/run.sh"], "exec=true") {
		t.Fatalf("fixture: run.sh not executable: %s", want["bin/run.sh"])
	}
	// Modification times travel with the content.
	for _, rel := range []string{"bin/run.sh", "big dir/large 32.bin", "a/piece+1.bin"} {
		src, err := os.Stat(filepath.Join(p1.dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, pp := range c.peers[1:] {
			fi, err := os.Stat(filepath.Join(pp.dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			if !fi.ModTime().Equal(src.ModTime()) {
				t.Errorf("%s on %s: mtime %v, want %v", rel, pp.name, fi.ModTime(), src.ModTime())
			}
		}
	}

	// 2. Modify on another peer: truncate, append, rewrite.
	if err := os.Truncate(filepath.Join(p2.dir, "a/piece+1.bin"), 100); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(p2.dir, "one"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(" and more")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	writeFile(t, p2.dir, "a/piece-1.bin", randomBytes(t, pieceSize-1), 0o644)
	want = c.snapshot(p2)
	c.waitAll("modifications", want)

	// 3. Rename the large file: every peer moves its own copy (or builds
	// the new path from pieces it already has), so no peer downloads its
	// bytes again.
	before := make([]stats, 4)
	for i, pp := range c.peers {
		before[i] = settledStats(t, pp)
	}
	if err := os.MkdirAll(filepath.Join(p3.dir, "moved"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(p3.dir, "big dir/large 32.bin"), filepath.Join(p3.dir, "moved/large renamed.bin")); err != nil {
		t.Fatal(err)
	}
	want = c.snapshot(p3)
	c.waitAll("rename", want)
	for i, pp := range c.peers {
		if pp == p3 {
			continue
		}
		var s stats
		eventually(t, 10*time.Second, pp.name+" stats after rename", func() (bool, string) {
			var err error
			s, err = readStats(pp.state)
			return err == nil && s.FilesApplied > before[i].FilesApplied && s.FilesDeleted > before[i].FilesDeleted,
				fmt.Sprintf("%+v, %v", s, err)
		})
		if got := s.BytesReceived - before[i].BytesReceived; got >= pieceSize {
			t.Errorf("%s downloaded %d bytes for a renamed %d-byte file, want none", pp.name, got, large)
		}
		t.Logf("rename on %s: %d bytes received, %d bytes copied locally", pp.name,
			s.BytesReceived-before[i].BytesReceived, s.BytesLocal-before[i].BytesLocal)
	}

	// 4. Delete a file and a whole directory.
	if err := os.Remove(filepath.Join(p4.dir, "one")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(p4.dir, "a")); err != nil {
		t.Fatal(err)
	}
	want = c.snapshot(p4)
	c.waitAll("deletions", want)

	// 5. Conflict and offline catch-up: p4 is stopped; both p1 and p4 edit
	// conflict.txt; p1 also adds a file. p1's edit is newer and keeps the
	// name; p4's survives everywhere as a conflict copy.
	p4.p.stop()
	now := time.Now()
	writeFile(t, p1.dir, "conflict.txt", []byte("edited on peer1 (newer)\n"), 0o644)
	setMtime(t, filepath.Join(p1.dir, "conflict.txt"), now)
	writeFile(t, p1.dir, "while offline/new.txt", []byte("made while peer4 was down\n"), 0o644)
	writeFile(t, p4.dir, "conflict.txt", []byte("edited on peer4 (older)\n"), 0o644)
	setMtime(t, filepath.Join(p4.dir, "conflict.txt"), now.Add(-time.Hour))
	wantOnline := c.snapshot(p1)
	c.waitAll("edits while peer4 is down", wantOnline, p1, p2, p3)
	c.startPeer(p4, false) // remembered tracker, no token
	conflictName := regexp.MustCompile(`^conflict\.sync-conflict-\d{8}-\d{6}-[A-Z2-7]{7}\.txt$`)
	var copyName string
	eventually(t, syncWait, "conflict copy on peer4", func() (bool, string) {
		got := c.snapshot(p4)
		for p := range got {
			if conflictName.MatchString(p) {
				copyName = p
				return true, ""
			}
		}
		return false, diff(got, wantOnline)
	})
	want = c.snapshot(p4)
	want[copyName] = fileEntry([]byte("edited on peer4 (older)\n"), false)
	want["conflict.txt"] = fileEntry([]byte("edited on peer1 (newer)\n"), false)
	for p, v := range wantOnline {
		want[p] = v
	}
	c.waitAll("conflict copy and catch-up", want)
	stamp := now.Add(-time.Hour).UTC().Format("20060102-150405")
	if !strings.Contains(copyName, stamp) {
		t.Errorf("conflict copy %q does not carry the losing version's time %s", copyName, stamp)
	}

	// 6. SIGKILL during a large download, then restart: only the missing
	// pieces are fetched. p1 serves alone, rate limited, so the kill lands
	// mid-download.
	p2.p.stop()
	p3.p.stop()
	p1.p.stop()
	c.startPeer(p1, false, "--max-send", "4MiB/s")
	const resumeSize = 16 << 20
	resumeData := randomBytes(t, resumeSize)
	writeFile(t, p1.dir, "resume/big.bin", resumeData, 0o644)
	partDir := filepath.Join(p4.state, "partial")
	eventually(t, syncWait, "peer4 has part of resume/big.bin", func() (bool, string) {
		n := presentPieces(partDir, resumeData)
		return n >= resumeSize/pieceSize*2/5, fmt.Sprintf("%d pieces present", n)
	})
	p4.p.kill()
	got := presentPieces(partDir, resumeData)
	c.startPeer(p4, false)
	want = c.snapshot(p1)
	c.waitAll("resume after SIGKILL", want, p4)
	var s stats
	eventually(t, 10*time.Second, "peer4 stats after resume", func() (bool, string) {
		var err error
		s, err = readStats(p4.state)
		return err == nil && s.FilesApplied > 0, fmt.Sprintf("%+v %v", s, err)
	})
	t.Logf("resume: %d of %d pieces were on disk at the kill; after restart %d bytes received (file %d bytes)",
		got, resumeSize/pieceSize, s.BytesReceived, resumeSize)
	if s.BytesReceived >= resumeSize*4/5 {
		t.Errorf("after restart peer4 received %d bytes of a %d-byte file: resume did not keep its pieces", s.BytesReceived, resumeSize)
	}

	// 7. Everyone back: all four converge, then a clean shutdown.
	p1.p.stop()
	c.startPeer(p1, false)
	c.startPeer(p2, false)
	c.startPeer(p3, false)
	c.waitAll("final convergence", want)
	c.stopAll()
}

func TestWrongTokenExitsNonZero(t *testing.T) {
	c := newCluster(t, 0)
	// A well-formed token for this tracker with the wrong secret.
	id, _, _ := strings.Cut(c.token, ":")
	bad := id + ":" + strings.Repeat("A", 26)
	dir := filepath.Join(c.base, "intruder")
	p := start(t, c.base, "intruder", "peer", "--dir", dir, "--tracker", c.addr, "--token", bad,
		"--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	err, ok := p.waitExit(30 * time.Second)
	if !ok {
		t.Fatal("peer with a wrong token still running after 30 s")
	}
	if err == nil {
		t.Fatal("peer with a wrong token exited 0")
	}
	log, _ := os.ReadFile(p.log.Name())
	if !bytes.Contains(bytes.ToLower(log), []byte("token")) {
		t.Errorf("exit message does not name the token:\n%s", log)
	}
	c.tracker.stop()
}

func setMtime(t *testing.T, p string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// presentPieces counts the pieces of data already written, at their offsets,
// in any partial file in dir.
func presentPieces(dir string, data []byte) int {
	best := 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		n := 0
		for off := 0; off+pieceSize <= len(b) && off+pieceSize <= len(data); off += pieceSize {
			if bytes.Equal(b[off:off+pieceSize], data[off:off+pieceSize]) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}
