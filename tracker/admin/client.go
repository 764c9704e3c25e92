package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// Client calls a running tracker's admin socket. It implements Service.
type Client struct {
	http *http.Client
}

// NewClient returns a client of the socket at path (nothing is dialed yet).
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		DisableKeepAlives: true,
	}
	return &Client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// IsNotRunning reports whether err says that nothing listens on the socket
// (no file, or a stale one): no tracker runs on that state directory.
func IsNotRunning(err error) bool {
	return errors.Is(err, ErrUnavailable) && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED))
}

// IssueToken implements Service.
func (c *Client) IssueToken(ctx context.Context, folders []string, ttl time.Duration) (Token, error) {
	req := TokenRequest{Folders: folders}
	if ttl > 0 {
		req.ExpiresIn = ttl.String()
	}
	var t Token
	err := c.do(ctx, http.MethodPost, "/v1/tokens", req, &t)
	return t, err
}

// Members implements Service.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var r membersResponse
	err := c.do(ctx, http.MethodGet, "/v1/members", nil, &r)
	return r.Members, err
}

// SetFolders implements Service.
func (c *Client) SetFolders(ctx context.Context, device string, all bool, folders []string) (Member, error) {
	var m Member
	err := c.do(ctx, http.MethodPut, "/v1/members/"+url.PathEscape(device)+"/folders", FoldersRequest{AllFolders: all, Folders: folders}, &m)
	return m, err
}

// RemoveMember implements Service.
func (c *Client) RemoveMember(ctx context.Context, device string) error {
	return c.do(ctx, http.MethodDelete, "/v1/members/"+url.PathEscape(device), nil, nil)
}

// RotateToken implements Service.
func (c *Client) RotateToken(ctx context.Context) (Token, error) {
	var t Token
	err := c.do(ctx, http.MethodPost, "/v1/token/rotate", nil, &t)
	return t, err
}

// do sends one request; a non-2xx answer becomes an error wrapping the
// sentinel of its status, with the tracker's message.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://tracker"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e errorResponse
		msg := string(b)
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		switch resp.StatusCode {
		case http.StatusBadRequest:
			return fmt.Errorf("%w: %s", ErrInvalid, trimSentinel(msg, ErrInvalid))
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", ErrNotFound, trimSentinel(msg, ErrNotFound))
		}
		return fmt.Errorf("admin %s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin %s %s: answer: %w", method, path, err)
	}
	return nil
}

// trimSentinel drops the sentinel's text the server already put in front.
func trimSentinel(msg string, sentinel error) string {
	p := sentinel.Error() + ": "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
