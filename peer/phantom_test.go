package peer

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPhantomConflictCopy: a reports A1 and replaces it by A2 while
// offline; b's offline edit B1 (written last) takes the name, so the
// tracker keeps A1 under a conflict name owned by a alone. If no one
// fetched A1, a reports its deletion (a phantom, phantom.go) and every
// peer settles; if c fetched A1 first, A1 must survive on c (as the
// conflict copy, or kept in versions if the deletion reached it).
func TestPhantomConflictCopy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fetched bool // c runs and fetches A1 before a replaces it
	}{
		{name: "nobody fetched A1"},
		{name: "c fetched A1", fetched: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			a := n.start(t.TempDir())
			b := n.start(t.TempDir())
			var c *testPeer
			if tc.fetched {
				c = n.start(t.TempDir())
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			a1, a2, b1 := []byte("a's first version"), []byte("a's second version, longer"), []byte("b's version, written last")
			b.stop()
			changes := a.d.Stats().LocalChanges
			must(os.WriteFile(filepath.Join(a.root, "f.txt"), a1, 0o644))
			waitFor(t, "a reported A1", func() bool { return a.d.Stats().LocalChanges > changes })
			if c != nil {
				waitFor(t, "A1 on c", fileIs(filepath.Join(c.root, "f.txt"), a1))
			}
			a.stop()
			must(os.WriteFile(filepath.Join(a.root, "f.txt"), a2, 0o644))
			must(os.WriteFile(filepath.Join(b.root, "f.txt"), b1, 0o644))
			later := time.Now().Add(time.Minute)
			must(os.Chtimes(filepath.Join(b.root, "f.txt"), later, later))
			b = n.restart(t, b) // B1 meets A1: A1 moves to a conflict name
			a = n.restart(t, a) // A2 (base A1) meets B1
			ps := []*testPeer{a, b}
			if c != nil {
				ps = append(ps, c)
			}
			settled := func() bool {
				want, err := folderTree(a.root)
				if err != nil {
					return false
				}
				for _, p := range ps {
					got, err := folderTree(p.root)
					if err != nil || p.d.Stats().PendingWants != 0 || !sameTree(got, want) {
						return false
					}
				}
				return true
			}
			// The end state: B1 at the name, A2 under a conflict name, on
			// every peer, with nothing left to fetch.
			final := func() bool {
				for _, p := range ps {
					if !fileIs(filepath.Join(p.root, "f.txt"), b1)() || conflictCopy(p.root, "f.sync-conflict-", a2) == "" {
						return false
					}
				}
				return settled()
			}
			// Held for a second: a want that arrives late shows in between.
			var since time.Time
			waitFor(t, "every peer settled", func() bool {
				if !final() {
					since = time.Time{}
					return false
				}
				if since.IsZero() {
					since = time.Now()
				}
				return time.Since(since) > time.Second
			})
			if c != nil {
				if !holds(t, c.root, a1) {
					t.Errorf("c lost A1, which it had fetched")
				}
			} else {
				for _, p := range ps {
					if holds(t, p.root, a1) {
						t.Errorf("%s: holds A1, which no peer had", p.root)
					}
				}
			}
		})
	}
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// holds reports whether any file under root, state directory included
// (versions kept there), has content data.
func holds(t *testing.T, root string, data []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found || strings.HasSuffix(p, ".db") {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, data) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
