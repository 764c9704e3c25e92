package simtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDeletionOfRecreatedContentSurvivesRestore is the reduction of a
// failure the simulation found (seed 29): content deleted, written again
// with the same bytes, and deleted again comes back after the tracker is
// restored from a backup taken before the second deletion. The versions of
// such a path repeat (X, T(X), X, T(X): manifest.TombstoneID depends only on
// the base), so each side is "newer" than the other by the re-announce
// rules (tracker/reannounce.go): a's re-announced tombstone (base X) meets
// the restored X (base T(X)) and is rejected ("deletion of another
// version"), and a fetches X back. In the simulation the same pair came
// the other way (the tombstone current, X re-announced by a peer that
// missed the deletion: "an edit beats a deletion").
func TestDeletionOfRecreatedContentSurvivesRestore(t *testing.T) {
	skipKnown(t, "recreated-deletion")
	tr, tl, a, b := startPair(t)
	f := "f.txt"
	x := []byte("the same bytes, twice")
	has := func(p *simPeer) func() bool {
		return func() bool { got, ok := p.file(f); return ok && string(got) == string(x) }
	}
	lacks := func(p *simPeer) func() bool { return func() bool { return !p.exists(f) } }

	must(t, os.WriteFile(a.abs(f), x, 0o644))
	waitFor(t, "f on b", has(b))
	must(t, os.Remove(a.abs(f)))
	waitFor(t, "f deleted on b", lacks(b))
	must(t, os.WriteFile(a.abs(f), x, 0o644)) // re-created: the same version ID
	waitFor(t, "f back on b", has(b))

	// The backup holds f = x.
	must(t, tr.stop())
	backup := filepath.Join(t.TempDir(), "backup")
	must(t, copyTree(tr.cfg.StateDir, backup))
	must(t, tr.start())

	// b is away while a deletes f again (the same tombstone ID as before).
	must(t, b.stop(tl))
	changes := a.d.Stats().LocalChanges
	must(t, os.Remove(a.abs(f)))
	waitFor(t, "a reported the deletion", func() bool { return a.d.Stats().LocalChanges > changes })

	// The tracker goes back to the backup; a re-announces first, then b.
	reannounces := a.d.Stats().Reannounces // a re-announced once as a new member
	must(t, tr.stop())
	must(t, os.RemoveAll(tr.cfg.StateDir))
	must(t, copyTree(backup, tr.cfg.StateDir))
	must(t, tr.start())
	waitFor(t, "a re-announced", func() bool { return a.d.Stats().Reannounces > reannounces })
	must(t, b.start(tr, tl))
	waitFor(t, "b live", func() bool { return b.d.Stats().ScansCompleted > 0 })

	// b was away during the deletion: it holds f until the deletion reaches
	// it; meanwhile f must not come back on a.
	deadline := time.Now().Add(30 * time.Second)
	for b.exists(f) {
		if a.exists(f) {
			t.Fatalf("a: the deleted %s came back after the tracker restore", f)
		}
		if time.Now().After(deadline) {
			t.Fatalf("b: the deletion of %s never arrived", f)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The deletion is the newest change of f: f stays deleted everywhere.
	deadline = time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range []*simPeer{a, b} {
			if p.exists(f) {
				t.Fatalf("%s: the deleted %s came back after the tracker restore", p.name, f)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// skipKnown skips a reproduction of a known, unfixed problem when
// DARTSYNC_SIM_KNOWN names it (a comma-separated list); by default it runs,
// and fails until the problem is fixed.
func skipKnown(t *testing.T, name string) {
	if known(os.Getenv("DARTSYNC_SIM_KNOWN"), name) {
		t.Skipf("known problem %q (DARTSYNC_SIM_KNOWN)", name)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConflictCopyNobodyHas is the reduction of the simulation's most
// frequent failure (seeds 1, 24, 26, 31 among others): a version that lost
// a conflict is listed under its conflict name with owners that no longer
// have it (its author replaced it before anyone fetched it), so every peer
// keeps a want that no source can fill, retried forever ("no usable source
// left ... lacks the rest"). The tracker now drops an owner whose report
// shows it edited the version away before building the copy, and deletes a
// copy left without owners (tracker/conflict_origin.go): every conflict
// copy the tracker lists must end up on both peers.
func TestConflictCopyNobodyHas(t *testing.T) {
	tr, tl, a, b := startPair(t)
	f := "f.txt"
	must(t, b.stop(tl))
	changes := a.d.Stats().LocalChanges
	must(t, os.WriteFile(a.abs(f), []byte("a's first version, replaced before anyone fetched it"), 0o644))
	waitFor(t, "a reported f", func() bool { return a.d.Stats().LocalChanges > changes })
	must(t, a.stop(tl))
	must(t, os.WriteFile(a.abs(f), []byte("a's second version"), 0o644))
	must(t, os.WriteFile(b.abs(f), []byte("b's version, written last"), 0o644))
	later := time.Now().Add(time.Minute)
	must(t, os.Chtimes(b.abs(f), later, later))
	must(t, b.start(tr, tl))
	waitFor(t, "b live", func() bool { return b.d.Stats().ScansCompleted > 0 })
	must(t, a.start(tr, tl))
	waitFor(t, "a live", func() bool { return a.d.Stats().ScansCompleted > 0 })
	deadline := time.Now().Add(20 * time.Second)
	for {
		pa, pb := a.d.Stats().PendingWants, b.d.Stats().PendingWants
		ta, err := tree(a.root)
		must(t, err)
		tb, err := tree(b.root)
		must(t, err)
		copies, _ := tr.srv.Overview().ConflictCopies(100)
		var missing []string
		for _, c := range copies {
			if _, ok := ta[c.Path]; !ok {
				missing = append(missing, c.Path)
			}
		}
		if pa == 0 && pb == 0 && treeDiff(ta, tb) == "" && len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quiescence: pending wants a %d, b %d; a: %v; b: %v; conflict copies the tracker lists that no peer has: %v", pa, pb, ta, tb, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
