package transfer

import (
	"sync"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/identity"
)

// liveConns are the connections a Server is serving, by device, so that
// the connections of a device that stopped being a member can be closed
// (CloseNonMembers). Its lock is never held while a connection is closed.
type liveConns struct {
	mu    sync.Mutex
	conns map[transport.Session]identity.DeviceID
}

// add records conn of device id; the returned func forgets it.
func (l *liveConns) add(id identity.DeviceID, conn transport.Session) (remove func()) {
	l.mu.Lock()
	if l.conns == nil {
		l.conns = map[transport.Session]identity.DeviceID{}
	}
	l.conns[conn] = id
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.conns, conn)
		l.mu.Unlock()
	}
}

// CloseNonMembers closes, with the "forbidden" code, every connection from
// a device that is no longer a peer of any folder (Folders.AnyMember): a
// member the tracker removed, or one no longer in any peer list. Its
// requests in flight end; it would be refused each new one anyway. It
// returns how many connections it closed. The peer calls it whenever the
// tracker sends a new peer list. A connection accepted concurrently is
// recorded before its own membership check, so it is either closed here or
// refused by that check.
func (s *Server) CloseNonMembers() int {
	s.live.mu.Lock()
	var gone []transport.Session
	var who []identity.DeviceID
	for c, id := range s.live.conns {
		if !s.folders.AnyMember(id) {
			gone = append(gone, c)
			who = append(who, id)
		}
	}
	s.live.mu.Unlock()
	for i, c := range gone {
		s.log.Info("closing connection: the device is no longer a peer", "device", who[i].Short(), "addr", c.RemoteAddr())
		_ = c.CloseWithError(codeForbidden, "not a member any more")
	}
	return len(gone)
}

// Networks lists the transport ("quic", "tcp") of each connection from
// device id the server is serving.
func (s *Server) Networks(id identity.DeviceID) []string {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	var ns []string
	for c, d := range s.live.conns {
		if d == id {
			ns = append(ns, c.Network())
		}
	}
	return ns
}
