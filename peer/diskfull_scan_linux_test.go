package peer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// TestScanOnFullDiskReportsNothingUnservable: a file is saved in b's folder
// and the disk (folder and state) fills before b scans it, so the chunk
// store cannot record where its pieces are. b must not report the file
// while it could not serve it (found by the chaos suite: the tracker made b
// the only owner of a version whose pieces b's server did not know, and
// the others retried for ever); once the disk has room, the scan is
// retried and a gets the file.
func TestScanOnFullDiskReportsNothingUnservable(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, _ := n.startInside(tmpfsFolder(t, 4<<20), func(c *Config) { c.Debounce = 400 * time.Millisecond })
	writeTestFile(t, b.root, "first.txt", "one")
	waitFor(t, "a has first.txt", fileIs(filepath.Join(a.root, "first.txt"), []byte("one")))

	data := randomBytes(600<<10, 7)
	mustDo(t, os.WriteFile(filepath.Join(b.root, "saved.bin"), data, 0o644))
	filler := filepath.Join(b.root, manifest.StateDir, "filler")
	fillDisk(t, filler) // before b's debounce ends: its scan meets a full disk
	time.Sleep(2 * time.Second)
	mustDo(t, os.Remove(filler))
	waitFor(t, "a has saved.bin", fileIs(filepath.Join(a.root, "saved.bin"), data))
}
