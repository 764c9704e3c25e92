package tracker

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// revokedHeapBound is the Go heap allowed to this whole test process (the
// tracker, the honest member and the removed device's connections) after a
// removed device reconnected revokedReconnects times: the tracker keeps
// nothing per refused attempt. Generous: about 6 MiB was measured.
const (
	revokedHeapBound  = 64 << 20
	revokedReconnects = 100
)

// TestRemovedMemberReconnectingBounded: a removed member reconnecting again
// and again over real QUIC, with the token it joined with, is refused each
// time (ERROR_NOT_MEMBER), while an honest member keeps having its changes
// accepted; the heap stays under revokedHeapBound.
func TestRemovedMemberReconnectingBounded(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	own := srv.Token()
	honest := startClient(t, srv.Addr().String(), own, nil)
	honest.registered(t)
	bad := newTestIdentity(t)
	if code, msg := joinAnswer(t, srv, bad, own.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("join: %v %s", code, msg)
	}
	if err := testAdmin(srv).RemoveMember(t.Context(), bad.ID.String()); err != nil {
		t.Fatal(err)
	}
	var base [32]byte
	for i := range revokedReconnects {
		p := dialRaw(t, srv.Addr().String(), own, bad)
		m := p.registerFolder(t, "", own.Secret[:])
		if e := m.GetError(); e == nil || e.Code != trackerpb.ErrorCode_ERROR_NOT_MEMBER {
			t.Fatalf("attempt %d of the removed device: %v, want ERROR_NOT_MEMBER", i, m)
		}
		p.conn.CloseWithError(0, "")
		if i%10 == 0 {
			f := testFile("honest.txt", fmt.Sprint("version ", i), t0+int64(i), base)
			if rs := honest.update(t, f); len(rs) != 1 || rs[0].Outcome != Accepted {
				t.Fatalf("the honest member's change %d: %+v", i, rs)
			}
			base = f.ID
		}
	}
	if _, ok := srv.store.member(bad.ID); ok {
		t.Fatal("the removed device became a member again")
	}
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if heap := s[0].Value.Uint64(); heap > revokedHeapBound {
		t.Fatalf("heap %d MiB after %d refused reconnections, bound %d MiB", heap>>20, revokedReconnects, revokedHeapBound>>20)
	} else {
		t.Logf("heap %.1f MiB after %d refused reconnections (bound %d MiB)", float64(heap)/(1<<20), revokedReconnects, revokedHeapBound>>20)
	}
}
