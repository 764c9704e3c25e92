//go:build !windows

package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ControlFile is the name of the API's endpoint in the state directory: a
// Unix socket (mode 0600).
const ControlFile = "control.sock"

// ControlPath returns the API endpoint of the peer whose state directory
// is stateDir.
func ControlPath(stateDir string) string { return filepath.Join(stateDir, ControlFile) }

// Endpoint is a listening API endpoint (see Listen).
type Endpoint struct {
	net.Listener
	Path string // the socket
}

// Listen listens on ControlPath(stateDir), a Unix socket only its owner
// may use (0600). A socket file left by a peer that is gone is replaced;
// one that answers is not (ErrInUse).
func Listen(stateDir string) (*Endpoint, error) {
	p := ControlPath(stateDir)
	if _, err := os.Lstat(p); err == nil {
		c, derr := net.DialTimeout("unix", p, time.Second)
		if derr == nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s", ErrInUse, p)
		}
		if err := os.Remove(p); err != nil {
			return nil, fmt.Errorf("localapi: remove stale socket: %w", err)
		}
	}
	l, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen %s: %w", p, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(p, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("localapi: %w", err)
	}
	return &Endpoint{Listener: l, Path: p}, nil
}

// Protect returns h: the socket's mode keeps other users out.
func (e *Endpoint) Protect(h http.Handler) http.Handler { return h }

// clientTransport dials the socket at control.
func clientTransport(control string) (*http.Transport, func(*http.Request) error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "unix", control)
			if err != nil {
				return nil, notRunning(control, err)
			}
			return c, nil
		},
	}
	return tr, func(*http.Request) error { return nil }
}

// notRunning wraps a dial error in ErrNotRunning when nobody listens.
func notRunning(control string, err error) error {
	var op *net.OpError
	if errors.Is(err, os.ErrNotExist) || errors.As(err, &op) {
		return fmt.Errorf("%w (%s: %w)", ErrNotRunning, control, err)
	}
	return err
}
