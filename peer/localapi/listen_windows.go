//go:build windows

package localapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ControlFile is the name of the API's endpoint in the state directory: on
// Windows a key file (mode 0600) naming a loopback address and the key
// every request must carry (Authorization: Bearer KEY).
const ControlFile = "control.key"

// ControlPath returns the API endpoint of the peer whose state directory
// is stateDir.
func ControlPath(stateDir string) string { return filepath.Join(stateDir, ControlFile) }

// keyFile is the content of the key file.
type keyFile struct {
	Addr string `json:"addr"`
	Key  string `json:"key"`
}

// Endpoint is a listening API endpoint (see Listen).
type Endpoint struct {
	net.Listener
	Path string // the key file
	key  string
}

// Listen listens on a loopback port and writes its address and a new
// random key to ControlPath(stateDir).
func Listen(stateDir string) (*Endpoint, error) {
	p := ControlPath(stateDir)
	if c, err := newClientFile(p); err == nil {
		if _, err := c.Status(context.Background()); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrInUse, p)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("localapi: listen: %w", err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	kf := keyFile{Addr: l.Addr().String(), Key: hex.EncodeToString(b[:])}
	data, _ := json.Marshal(kf)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("localapi: key file: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		l.Close()
		return nil, fmt.Errorf("localapi: key file: %w", err)
	}
	return &Endpoint{Listener: &removeOnClose{Listener: l, path: p}, Path: p, key: kf.Key}, nil
}

type removeOnClose struct {
	net.Listener
	path string
}

func (r *removeOnClose) Close() error {
	err := r.Listener.Close()
	os.Remove(r.path)
	return err
}

// Protect refuses requests without the endpoint's key.
func (e *Endpoint) Protect(h http.Handler) http.Handler {
	want := []byte("Bearer " + e.key)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeError(w, http.StatusUnauthorized, "missing or wrong key (see %s)", ControlFile)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func newClientFile(p string) (*Client, error) {
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	return NewClient(p), nil
}

// clientTransport dials the address in the key file at control and adds
// its key to each request.
func clientTransport(control string) (*http.Transport, func(*http.Request) error) {
	read := func() (keyFile, error) {
		var kf keyFile
		b, err := os.ReadFile(control)
		if err != nil {
			return kf, notRunning(control, err)
		}
		if err := json.Unmarshal(b, &kf); err != nil || kf.Addr == "" {
			return kf, fmt.Errorf("localapi: key file %s: not valid", control)
		}
		return kf, nil
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			kf, err := read()
			if err != nil {
				return nil, err
			}
			c, err := d.DialContext(ctx, "tcp", kf.Addr)
			if err != nil {
				return nil, notRunning(control, err)
			}
			return c, nil
		},
	}
	return tr, func(r *http.Request) error {
		kf, err := read()
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(kf.Key))
		return nil
	}
}

// notRunning wraps a dial error in ErrNotRunning when nobody listens.
func notRunning(control string, err error) error {
	var op *net.OpError
	if errors.Is(err, os.ErrNotExist) || errors.As(err, &op) {
		return fmt.Errorf("%w (%s: %w)", ErrNotRunning, control, err)
	}
	return err
}
