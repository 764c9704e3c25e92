package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Sentinel errors.
var (
	// ErrNotRunning: no peer answers at the endpoint (no socket, nobody
	// listening).
	ErrNotRunning = errors.New("peer not running")
	// ErrInUse: another running peer already serves the endpoint.
	ErrInUse = errors.New("control endpoint in use by a running peer")
	// ErrRefused: the peer answered 4xx, the request itself was wrong
	// (a bad rate for /v1/limits).
	ErrRefused = errors.New("refused by the peer")
)

// maxLine bounds one event line a client reads.
const maxLine = 1 << 20

// Client talks to one peer's API at its endpoint (ControlPath).
type Client struct {
	control string
	hc      *http.Client
	auth    func(*http.Request) error
}

// NewClient returns a client of the API at control (a ControlPath). No
// connection is made until a request.
func NewClient(control string) *Client {
	tr, auth := clientTransport(control)
	return &Client{control: control, hc: &http.Client{Transport: tr}, auth: auth}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// get GETs path (below /v1) and decodes the JSON answer into v.
func (c *Client) get(ctx context.Context, path string, v any) error {
	resp, err := c.do(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("localapi: %s: %w", path, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://dartsync/"+APIVersion+path, nil)
	if err != nil {
		return nil, err
	}
	return c.send(req, path)
}

// send sends req (to path, below /v1) with the endpoint's authorization and
// returns the answer when it is 200; any other status is an error with the
// peer's message (a 4xx wraps ErrRefused).
func (c *Client) send(req *http.Request, path string) (*http.Response, error) {
	if err := c.auth(req); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrNotRunning) {
			return nil, fmt.Errorf("%w (no answer at %s)", ErrNotRunning, c.control)
		}
		return nil, fmt.Errorf("localapi: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var eb ErrorBody
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return nil, fmt.Errorf("localapi: %s: %w: %s: %s", path, ErrRefused, resp.Status, eb.Error)
		}
		return nil, fmt.Errorf("localapi: %s: %s: %s", path, resp.Status, eb.Error)
	}
	return resp, nil
}

// Raw returns the JSON body of GET /v1/PATH (path: "/status", ...) as
// the peer sent it.
func (c *Client) Raw(ctx context.Context, path string) (json.RawMessage, error) {
	resp, err := c.do(ctx, path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("localapi: %s: %w", path, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("localapi: %s: not JSON", path)
	}
	return b, nil
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.get(ctx, "/status", &s)
}

// Folders is GET /v1/folders.
func (c *Client) Folders(ctx context.Context) ([]Folder, error) {
	var f []Folder
	return f, c.get(ctx, "/folders", &f)
}

// Transfers is GET /v1/transfers.
func (c *Client) Transfers(ctx context.Context) ([]Transfer, error) {
	var t []Transfer
	return t, c.get(ctx, "/transfers", &t)
}

// Conflicts is GET /v1/conflicts.
func (c *Client) Conflicts(ctx context.Context) ([]Conflict, error) {
	var cs []Conflict
	return cs, c.get(ctx, "/conflicts", &cs)
}

// EventStream is an open GET /v1/events.
type EventStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Events opens the event stream; it ends when ctx ends, Close is called
// or the peer stops (Next then returns io.EOF or an error).
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	resp, err := c.do(ctx, "/events")
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	return &EventStream{body: resp.Body, sc: sc}, nil
}

// Next returns the next event; io.EOF once the peer ended the stream.
func (s *EventStream) Next() (Event, error) {
	for s.sc.Scan() {
		if len(s.sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(s.sc.Bytes(), &e); err != nil {
			return Event{}, fmt.Errorf("localapi: event: %w", err)
		}
		return e, nil
	}
	if err := s.sc.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, io.EOF
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }
