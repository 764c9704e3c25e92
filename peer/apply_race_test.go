package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestFileAppearingBeforeCommitIsKept: the worst moment for a new path: b
// has checked that nothing is at f.txt and is about to rename a's version
// there when the user writes a file of their own at f.txt. The rename must
// not replace it: the user's file stays, b reports it as an edit, and a's
// version is kept too (a conflict copy: the user's file, written later,
// keeps the name). A single-piece file is committed in a batch, a larger
// one on its own: both ways are tried.
func TestFileAppearingBeforeCommitIsKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{name: "single piece (batch commit)", size: 1000},
		{name: "many pieces (own commit)", size: 200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			a := n.start(t.TempDir())
			user := []byte("the user's own file, written at the worst moment")
			var fired atomic.Bool
			b := n.startPrepared(t.TempDir(), func(d *Daemon) {
				d.folders[0].apply.beforeCommit = func(abs string) {
					if filepath.Base(abs) == "f.txt" && fired.CompareAndSwap(false, true) {
						if err := os.WriteFile(abs, user, 0o644); err != nil {
							t.Errorf("the user's write: %v", err)
						}
					}
				}
			})
			theirs := bytes.Repeat([]byte("a's version "), tc.size/12+1)
			replaceFile(t, filepath.Join(a.root, "f.txt"), theirs)
			waitFor(t, "the hook", fired.Load)
			for _, p := range []*testPeer{a, b} {
				waitFor(t, "the user's file at f.txt on "+p.root, fileIs(filepath.Join(p.root, "f.txt"), user))
				waitFor(t, "a's version kept as a conflict copy on "+p.root, func() bool {
					return conflictCopy(p.root, "f.sync-conflict-", theirs) != ""
				})
			}
		})
	}
}
