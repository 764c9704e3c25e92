package transfer

import (
	"fmt"

	"golang.org/x/sync/semaphore"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
)

// Limits of what one remote device may cost the piece server before any of
// its requests is served (docs/PROTOCOL.md, "Limits"). Each applies before
// the bytes it bounds are read: exceeding it refuses that stream (BUSY) or
// closes that connection, and every other device goes on being served.
const (
	// MaxRemoteConns is how many connections one device may have open to
	// the server at once; one more is closed at once (codeTooMany). An
	// honest fetcher keeps DefaultConns (2) to a source; a restarted one
	// may briefly leave its previous ones open. Every connection can hold
	// up to ServerConnWindow of unread stream data in QUIC's buffers, so
	// this bounds what one device can park there.
	MaxRemoteConns = 8
	// DefaultRemoteQueue is how many request streams of one device may be
	// open at once (read, waiting for a slot or being served), over all
	// its connections; a stream beyond it is answered BUSY before any of
	// it is read. It is well above what an honest fetcher keeps in flight
	// (DefaultWindow per file, a few files, DefaultConns connections).
	DefaultRemoteQueue = 256
	// MaxRemoteRequestBytes bounds the request frame bytes of one device
	// held at once (read or being read, until the request is answered): a
	// frame whose declared length would exceed it is answered BUSY before
	// its body is read. A piece request is tens of bytes; a delta request
	// carries a signature of at most MaxSignature, so this is sixteen of
	// the largest.
	MaxRemoteRequestBytes = 16 * MaxRequestFrame
	// MaxServerRequestBytes bounds the same over all devices together.
	MaxServerRequestBytes = 4 * MaxRemoteRequestBytes
	// ServerStreamWindow is the receive window of one stream on the
	// server's connections: only request frames arrive there, so it need
	// hold one of the largest (the data flows the other way, under the
	// requester's windows).
	ServerStreamWindow = 1 << 20
	// ServerConnWindow is the receive window of one server connection: how
	// much unread request data QUIC buffers for it at most.
	ServerConnWindow = 4 << 20
)

// codeTooMany closes a connection over MaxRemoteConns.
const codeTooMany = 3

// ListenOptions are the transport options of a piece server's listener:
// receive windows sized for requests (ServerStreamWindow,
// ServerConnWindow) instead of the downloader's large ones, and
// DefaultRemoteQueue streams per connection. Use them only for a listener
// that serves pieces, never for connections that download.
func ListenOptions() transport.Options {
	return transport.Options{
		StreamWindow:       ServerStreamWindow,
		ConnWindow:         ServerConnWindow,
		MaxIncomingStreams: DefaultRemoteQueue,
	}
}

// remote holds the limits of one remote device, shared by its connections.
// Its counters are guarded by Server.mu (never held across I/O).
type remote struct {
	conns    int // connections open; guarded by Server.mu
	streams  int // request streams open; guarded by Server.mu
	reqs     *semaphore.Weighted
	mem      *semaphore.Weighted
	reqBytes *semaphore.Weighted // request frame bytes held (MaxRemoteRequestBytes)
}

// acquireRemote counts one more connection of device id; nil if the device
// already has MaxRemoteConns open.
func (s *Server) acquireRemote(id identity.DeviceID) *remote {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.remotes[id]
	if r == nil {
		r = &remote{
			reqs:     semaphore.NewWeighted(int64(s.cfg.remoteRequests)),
			mem:      semaphore.NewWeighted(s.cfg.remoteMemory),
			reqBytes: semaphore.NewWeighted(MaxRemoteRequestBytes),
		}
		s.remotes[id] = r
	}
	if r.conns >= MaxRemoteConns {
		return nil
	}
	r.conns++
	return r
}

func (s *Server) releaseRemote(id identity.DeviceID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.remotes[id]
	r.conns--
	if r.conns == 0 && r.streams == 0 {
		delete(s.remotes, id)
	}
}

// openStream counts one more request stream of r; false if r is at the
// stream limit.
func (s *Server) openStream(r *remote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.streams >= s.cfg.remoteQueue {
		return false
	}
	r.streams++
	return true
}

func (s *Server) closeStream(id identity.DeviceID, r *remote) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.streams--
	if r.conns == 0 && r.streams == 0 && s.remotes[id] == r {
		delete(s.remotes, id)
	}
}

// admitRequest reserves n bytes of request frame for r (its own budget and
// the server's) before the frame's body is read; release gives them back.
// It never waits: over budget is an error for the requester (BUSY).
func (s *Server) admitRequest(r *remote, n int) (release func(), err error) {
	w := int64(n)
	if !r.reqBytes.TryAcquire(w) {
		return nil, fmt.Errorf("request of %d bytes over this device's budget of request bytes in progress (%d)", n, MaxRemoteRequestBytes)
	}
	if !s.reqBytes.TryAcquire(w) {
		r.reqBytes.Release(w)
		return nil, fmt.Errorf("request of %d bytes over the server's budget of request bytes in progress (%d)", n, MaxServerRequestBytes)
	}
	return func() {
		s.reqBytes.Release(w)
		r.reqBytes.Release(w)
	}, nil
}
