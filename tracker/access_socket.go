package tracker

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
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
func listenAdmin(stateDir string, log *slog.Logger) net.Listener {
	path := filepath.Join(stateDir, admin.SocketFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("admin socket not available", "path", path, "err", err)
		return nil
	}
	ln, err := net.Listen("unix", path)
	if err == nil {
		if err = os.Chmod(path, 0o600); err != nil {
			ln.Close()
		}
	}
	if err != nil {
		log.Warn("admin socket not available: dartsync tracker token/members cannot reach this tracker", "path", path, "err", err)
		return nil
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	log.Info("admin socket listening (dartsync tracker token, members)", "path", path)
	return ln
}

// serveAdmin serves the admin API on ln with svc until ctx ends (run by
// Run's wait group), then closes ln.
func serveAdmin(ctx context.Context, ln net.Listener, svc *adminService, log *slog.Logger) {
	if err := admin.Serve(ctx, ln, svc, log); err != nil {
		log.Warn("admin socket stopped", "err", err)
	}
	_ = ln.Close()
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
	return &remoteError{trackerpb.ErrorCode_ERROR_NOT_MEMBER, "not a member: this device was removed from the tracker; it can join again only with a token made after its removal"}
}
