package tracker

import (
	"sync"
	"testing"
)

// Peers that register at the same moment must all end up knowing each
// other: the list in REGISTERED is built before the new session is live, so
// each session is sent a fresh list once it is. The hook holds every
// session between REGISTERED and going live until all have registered, the
// worst interleaving.
func TestSimultaneousRegistrationsSeeEachOther(t *testing.T) {
	const n = 4
	var barrier sync.WaitGroup
	barrier.Add(n)
	srv := startServer(t, t.TempDir(), ServerConfig{Debug: DebugHooks{BeforeLive: func() {
		barrier.Done()
		barrier.Wait()
	}}})
	addr := srv.Addr().String()
	clients := make([]*testClient, n)
	for i := range clients {
		clients[i] = startClient(t, addr, srv.Token(), nil)
	}
	for i, c := range clients {
		c.rec.wait(t, "every other peer listed", func(r *recorder) bool {
			ps := r.currentPeers()
			if len(ps) != n-1 {
				return false
			}
			for j, o := range clients {
				if j != i && !hasPeer(ps, o.id.ID) {
					return false
				}
			}
			return true
		})
	}
}
