package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileDirectoryClash (acceptance d): a file on one device and a
// directory of the same name on another, in both orders of events. The
// tracker keeps the directory under the name and the file under its
// conflict name, owned by the devices that have the file; they keep it
// from their own copy before the directory replaces it. Both versions end
// on every peer: the directory with its content under the name, the file's
// bytes under the conflict name.
func TestFileDirectoryClash(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2, p3 := c.peers[0], c.peers[1], c.peers[2]
	want := tree{}

	// 1. The file is synced first (p1 and p3 have it); p2, offline, makes
	// a directory of that name, and the directory wins when p2 reports it.
	file1 := bytes.Repeat([]byte("file made on peer1, synced first\n"), 4000) // several pieces
	inside1 := []byte("in the directory made on peer2\n")
	p2.p.stop()
	writeFile(t, p1.dir, "clash1", file1, 0o644)
	want["clash1"] = fileEntry(file1, false)
	c.waitAll("the file on the peers online", want, p1, p3)
	writeFile(t, p2.dir, "clash1/inside", inside1, 0o644)
	c.startPeer(p2, false)
	want["clash1"] = "dir"
	want["clash1/inside"] = fileEntry(inside1, false)
	want[c.conflictCopy(p1, "clash1.sync-conflict-", file1)] = fileEntry(file1, false)
	c.waitAll("file accepted first, then the directory", want)

	// 2. The directory is synced first; p1, offline, makes a file of that
	// name, whose report then loses the clash.
	file2 := []byte("file made on peer1 while offline\n")
	inside2 := []byte("in the directory made on peer2, synced first\n")
	p1.p.stop()
	writeFile(t, p2.dir, "clash2/inside", inside2, 0o644)
	want["clash2"] = "dir"
	want["clash2/inside"] = fileEntry(inside2, false)
	c.waitAll("the directory on the peers online", want, p2, p3)
	writeFile(t, p1.dir, "clash2", file2, 0o644)
	c.startPeer(p1, false)
	want[c.conflictCopy(p2, "clash2.sync-conflict-", file2)] = fileEntry(file2, false)
	c.waitAll("directory first, then the file", want)

	c.stopAll()
}

// conflictCopy waits until pp's folder has a file at its top level whose
// name starts with prefix and which holds data, and returns its name.
func (c *cluster) conflictCopy(pp *peerProc, prefix string, data []byte) string {
	c.t.Helper()
	var name string
	eventually(c.t, syncWait, "conflict copy "+prefix+"* on "+pp.name, func() (bool, string) {
		ents, err := os.ReadDir(pp.dir)
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), prefix) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(pp.dir, e.Name()))
			if err == nil && bytes.Equal(b, data) {
				name = e.Name()
				return true, ""
			}
			seen = append(seen, e.Name())
		}
		return false, "candidates: " + strings.Join(seen, ", ")
	})
	return name
}
