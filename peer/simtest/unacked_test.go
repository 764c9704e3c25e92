package simtest

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestReportAnswerLostInCrash: a peer killed after the tracker committed
// its report but before it recorded the answer restarts with its index
// entry at the old version and the report in its unacknowledged log
// (peer/index/unacked.go); that state is written here exactly as such a
// kill leaves it. Neither what its user does next nor the same file sent
// again may make a conflict copy of the device's own version (the chaos
// suite's "spurious" copies): the next edit fast-forwards it (tracker rule
// 5a), and the version sent again after another device built on it is
// outdated (rule 5b).
func TestReportAnswerLostInCrash(t *testing.T) {
	for _, tc := range []struct {
		name string
		// meanwhile runs while a is down, on a's folder or b.
		meanwhile func(t *testing.T, a, b *simPeer, f string) (want string)
	}{
		{"a edits again", func(t *testing.T, a, b *simPeer, f string) string {
			const v3 = "v3: a's edit after the lost answer"
			must(t, os.WriteFile(a.abs(f), []byte(v3), 0o644))
			return v3
		}},
		{"b builds on the version", func(t *testing.T, a, b *simPeer, f string) string {
			const w3 = "w3: b's edit of v2"
			changes := b.d.Stats().LocalChanges
			must(t, os.WriteFile(b.abs(f), []byte(w3), 0o644))
			waitFor(t, "b reported w3", func() bool { return b.d.Stats().LocalChanges > changes })
			return w3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, tl, a, b := startPair(t)
			const f = "f.txt"
			has := func(p *simPeer, content string) func() bool {
				return func() bool { got, ok := p.file(f); return ok && string(got) == content }
			}
			must(t, os.WriteFile(a.abs(f), []byte("v1"), 0o644))
			waitFor(t, "b has v1", has(b, "v1"))
			must(t, a.stop(tl))
			v1 := entryOf(t, a, f)
			must(t, a.start(tr, tl))
			must(t, os.WriteFile(a.abs(f), []byte("v2: a's edit whose answer is lost"), 0o644))
			waitFor(t, "b has v2", has(b, "v2: a's edit whose answer is lost"))
			must(t, a.stop(tl))
			v2 := entryOf(t, a, f)
			// What a kill between the tracker's commit and a's record leaves:
			// the entry still at v1, v2 reported without an answer.
			x, err := index.Open(a.state)
			must(t, err)
			must(t, x.Update(index.Batch{Put: []index.Entry{v1}, Reported: []index.Reported{{Path: f, ID: v2.Manifest.ID}}}))
			must(t, x.Close())

			want := tc.meanwhile(t, a, b, f)
			must(t, a.start(tr, tl))
			waitFor(t, "a has "+want, has(a, want))
			waitFor(t, "b has "+want, has(b, want))
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				for _, p := range []*simPeer{a, b} {
					tp, err := tree(p.root)
					must(t, err)
					for rel := range tp {
						if strings.Contains(rel, ".sync-conflict-") {
							t.Fatalf("%s has a conflict copy %s of its own version: %v", p.name, rel, tp)
						}
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// entryOf reads the index entry for rel of p, stopped.
func entryOf(t *testing.T, p *simPeer, rel string) index.Entry {
	t.Helper()
	x, err := index.Open(p.state)
	must(t, err)
	defer x.Close()
	e, ok := x.Get(rel)
	if !ok || e.Manifest.Kind != manifest.KindFile {
		t.Fatalf("%s: no index entry for %s", p.name, rel)
	}
	return e
}
