package transfer

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
)

// TestRemoteLimits: a device's connections, streams and request bytes are
// counted before anything is read, and refused over their limits.
func TestRemoteLimits(t *testing.T) {
	a, b := identity.DeviceID{1}, identity.DeviceID{2}
	tests := []struct {
		name    string
		fill    func(s *Server) // what devices a and b already hold
		try     func(s *Server) error
		wantErr string // "" = admitted
	}{
		{"connection", func(*Server) {}, tryConn(a), ""},
		{"connection over the device's limit", func(s *Server) {
			for range MaxRemoteConns {
				s.acquireRemote(a)
			}
		}, tryConn(a), "too many connections"},
		{"another device's connection", func(s *Server) {
			for range MaxRemoteConns {
				s.acquireRemote(a)
			}
		}, tryConn(b), ""},
		{"stream over the device's limit", func(s *Server) {
			r := s.acquireRemote(a)
			for range DefaultRemoteQueue {
				s.openStream(r)
			}
		}, tryStream(a), "too many streams"},
		{"request bytes of a device", func(*Server) {}, tryRequest(a, MaxRequestFrame), ""},
		{"request bytes over the device's budget", func(s *Server) {
			r := s.acquireRemote(a)
			for range MaxRemoteRequestBytes / MaxRequestFrame {
				if _, err := s.admitRequest(r, MaxRequestFrame); err != nil {
					panic(err)
				}
			}
		}, tryRequest(a, 1), "this device's budget"},
		{"request bytes over the server's budget", func(s *Server) {
			for i := range MaxServerRequestBytes / MaxRemoteRequestBytes {
				r := s.acquireRemote(identity.DeviceID{byte(10 + i)})
				if _, err := s.admitRequest(r, MaxRemoteRequestBytes); err != nil {
					panic(err)
				}
			}
		}, tryRequest(a, 1), "the server's budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(nil, allowAll, slog.New(slog.DiscardHandler))
			tt.fill(s)
			err := tt.try(s)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

type limitErr string

func (e limitErr) Error() string { return string(e) }

func tryConn(id identity.DeviceID) func(*Server) error {
	return func(s *Server) error {
		if s.acquireRemote(id) == nil {
			return limitErr("too many connections")
		}
		return nil
	}
}

func tryStream(id identity.DeviceID) func(*Server) error {
	return func(s *Server) error {
		s.mu.Lock()
		r := s.remotes[id]
		s.mu.Unlock()
		if !s.openStream(r) {
			return limitErr("too many streams")
		}
		return nil
	}
}

func tryRequest(id identity.DeviceID, n int) func(*Server) error {
	return func(s *Server) error {
		s.mu.Lock()
		r := s.remotes[id]
		s.mu.Unlock()
		if r == nil {
			r = s.acquireRemote(id)
		}
		_, err := s.admitRequest(r, n)
		return err
	}
}
