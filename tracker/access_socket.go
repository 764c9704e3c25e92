package tracker

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/dartsync/dartsync/tracker/admin"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// listenAdmin opens the admin socket in the state directory (mode 0600; the
// directory is 0700 too). The store is open, so no other tracker runs on
// this directory and a socket file left by a crash can be removed. A
// failure (a path too long for a Unix socket) is logged: the tracker runs
// without it, and the admin commands cannot reach it.
func (s *Server) listenAdmin() net.Listener {
	path := filepath.Join(s.cfg.StateDir, admin.SocketFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("admin socket not available", "path", path, "err", err)
		return nil
	}
	ln, err := net.Listen("unix", path)
	if err == nil {
		if err = os.Chmod(path, 0o600); err != nil {
			ln.Close()
		}
	}
	if err != nil {
		s.log.Warn("admin socket not available: dartsync tracker token/members cannot reach this tracker", "path", path, "err", err)
		return nil
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	s.log.Info("admin socket listening (dartsync tracker token, members)", "path", path)
	return ln
}

// serveAdmin serves the admin API until ctx ends (run by Run's wait group).
func (s *Server) serveAdmin(ctx context.Context) {
	svc := &adminService{st: s.store, tracker: s.id.ID, srv: s}
	if err := admin.Serve(ctx, s.admin, svc, s.log); err != nil {
		s.log.Warn("admin socket stopped", "err", err)
	}
	_ = s.admin.Close()
}

// AdminSocket returns the admin socket's path ("" if the tracker has none).
func (s *Server) AdminSocket() string {
	if s.admin == nil {
		return ""
	}
	return s.admin.Addr().String()
}

// errRemoved is the ERROR a removed member's sessions are closed with.
func errRemoved(string) *remoteError {
	return &remoteError{trackerpb.ErrorCode_ERROR_NOT_MEMBER, "not a member: this device was removed from the tracker; join again with a token"}
}
