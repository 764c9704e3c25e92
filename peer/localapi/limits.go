package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Limits is GET /v1/limits, and the answer of POST /v1/limits: the
// peer's bandwidth limits for piece transfers (`dartsync peer --max-send,
// --max-recv, --lan-unlimited`; the tracker connection is never limited).
type Limits struct {
	MaxSend      int64 `json:"max_send"`      // bytes per second sent at most; 0: unlimited
	MaxRecv      int64 `json:"max_recv"`      // bytes per second received at most; 0: unlimited
	LANUnlimited bool  `json:"lan_unlimited"` // remotes on this host's subnets are not limited
	// SentLimited and ReceivedLimited count the piece bytes that went
	// through each limit since the peer started (bytes while a direction
	// was unlimited, or exempt as LAN, are not counted).
	SentLimited     int64 `json:"sent_limited"`
	ReceivedLimited int64 `json:"received_limited"`
}

// LimitsChange is the body of POST /v1/limits: the limits to change, each
// left out to keep it. Rates are written as `dartsync peer --max-send`
// takes them ("5MB/s", "80Mbit/s", "0" for none).
type LimitsChange struct {
	MaxSend      *string `json:"max_send,omitempty"`
	MaxRecv      *string `json:"max_recv,omitempty"`
	LANUnlimited *bool   `json:"lan_unlimited,omitempty"`
}

// LimitsSource is a Source whose bandwidth limits can be read and changed;
// a Source that is not one has no /v1/limits. SetLimits applies the change
// as a whole or not at all; its error is the user's (a bad rate) and is
// answered 400.
type LimitsSource interface {
	Limits() Limits
	SetLimits(LimitsChange) (Limits, error)
}

// maxLimitsBody bounds the body of POST /v1/limits.
const maxLimitsBody = 4 << 10

// handleLimits serves /v1/limits on mux when src is a LimitsSource.
func handleLimits(mux *http.ServeMux, src Source) {
	ls, ok := src.(LimitsSource)
	if !ok {
		return
	}
	mux.HandleFunc("/"+APIVersion+"/limits", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, ls.Limits())
		case http.MethodPost:
			var ch LimitsChange
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLimitsBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ch); err != nil {
				writeError(w, http.StatusBadRequest, "limits: %v", err)
				return
			}
			l, err := ls.SetLimits(ch)
			if err != nil {
				writeError(w, http.StatusBadRequest, "limits: %v", err)
				return
			}
			writeJSON(w, http.StatusOK, l)
		default:
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed on %s (GET or POST)", r.Method, r.URL.Path)
		}
	})
}

// Limits is GET /v1/limits.
func (c *Client) Limits(ctx context.Context) (Limits, error) {
	var l Limits
	return l, c.get(ctx, "/limits", &l)
}

// SetLimits is POST /v1/limits: it changes what ch names and returns the
// limits now in force.
func (c *Client) SetLimits(ctx context.Context, ch LimitsChange) (Limits, error) {
	body, err := json.Marshal(ch)
	if err != nil {
		return Limits{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://dartsync/"+APIVersion+"/limits", bytes.NewReader(body))
	if err != nil {
		return Limits{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.send(req, "/limits")
	if err != nil {
		return Limits{}, err
	}
	defer resp.Body.Close()
	var l Limits
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&l); err != nil {
		return Limits{}, fmt.Errorf("localapi: /limits: %w", err)
	}
	return l, nil
}
