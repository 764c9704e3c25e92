package tracker

import (
	"context"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestOwnershipAnnouncementOverTheWire: the OwnershipOnly flag travels per
// change through a real client and session: an announcement of the current
// version makes an owner, one of a version deleted meanwhile is rejected
// (never resurrecting it), and the plain report next to it in the same
// batch is applied by the normal rules.
func TestOwnershipAnnouncementOverTheWire(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	a := startClient(t, addr, srv.Token(), nil)
	b := startClient(t, addr, srv.Token(), nil)
	a.registered(t)
	b.registered(t)
	update := func(tc *testClient, cs ...Change) []Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		rs, err := tc.Update(ctx, cs)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		return rs
	}

	v1 := testFile("f.txt", "content", t0, manifest.ID{})
	if rs := a.update(t, v1); rs[0].Outcome != Accepted {
		t.Fatalf("v1: %+v", rs[0])
	}
	if rs := update(b, Change{New: v1, OwnershipOnly: true}); rs[0].Outcome != Owner {
		t.Fatalf("announcement of the current version: %+v", rs[0])
	}
	del := manifest.NewTombstone(v1.Path, manifest.KindFile, v1.ID, t0+1)
	if rs := a.update(t, del); rs[0].Outcome != Accepted {
		t.Fatalf("deletion: %+v", rs[0])
	}
	// b applied v1 again (say, a re-creation it saw with the tombstone as
	// base) and announces it after the deletion: superseded. In the same
	// batch, another path's fresh report is accepted.
	again := testFile(v1.Path, "content", t0+2, del.ID)
	other := testFile("g.txt", "other", t0, manifest.ID{})
	rs := update(b, Change{New: again, OwnershipOnly: true}, Change{New: other})
	if rs[0].Outcome != Rejected || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "superseded") ||
		rs[0].CurrentID != del.ID {
		t.Fatalf("announcement of a deleted version: %+v", rs[0])
	}
	if rs[1].Outcome != Accepted {
		t.Fatalf("report next to it: %+v", rs[1])
	}
	// The same manifest as a local report is a re-creation: a new version.
	if rs := a.update(t, again); rs[0].Outcome != Accepted || rs[0].CurrentID != v1.ID {
		t.Fatalf("re-creation: %+v", rs[0])
	}
}

// TestBuildBatchOwnershipFlags: flags are sent only when one is set, and
// then one per change.
func TestBuildBatchOwnershipFlags(t *testing.T) {
	f := testFile("a", "a", t0, manifest.ID{})
	u, n := buildBatch([]Change{{New: f}, {New: f}})
	if n != 2 || u.OwnershipOnly != nil {
		t.Fatalf("plain batch: n %d, flags %v", n, u.OwnershipOnly)
	}
	u, n = buildBatch([]Change{{New: f}, {New: f, OwnershipOnly: true}})
	if n != 2 || len(u.OwnershipOnly) != 2 || u.OwnershipOnly[0] || !u.OwnershipOnly[1] {
		t.Fatalf("flagged batch: n %d, flags %v", n, u.OwnershipOnly)
	}
}
