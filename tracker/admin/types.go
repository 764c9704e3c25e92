package admin

import (
	"context"
	"errors"
	"time"
)

// SocketFile is the admin socket's name in the tracker's state directory.
const SocketFile = "admin.sock"

// MaxRequestSize bounds a request body.
const MaxRequestSize = 64 << 10

// Sentinel errors; see the package documentation.
var (
	ErrInvalid     = errors.New("invalid request")
	ErrNotFound    = errors.New("no such member")
	ErrUnavailable = errors.New("tracker admin socket unavailable")
)

// Service is what the admin API does. Implementations wrap ErrInvalid and
// ErrNotFound as documented.
type Service interface {
	// IssueToken returns a new join token granting exactly folders (at
	// least one), valid for ttl (0: until revoked with the state).
	IssueToken(ctx context.Context, folders []string, ttl time.Duration) (Token, error)
	// Members lists every member, ordered by device ID.
	Members(ctx context.Context) ([]Member, error)
	// SetFolders replaces a member's grant: every folder (all) or exactly
	// folders. Live sessions of folders it loses are closed at once.
	SetFolders(ctx context.Context, device string, all bool, folders []string) (Member, error)
	// RemoveMember forgets a member, closes its sessions and refuses it
	// from then on (unless it joins with a token made later).
	RemoveMember(ctx context.Context, device string) error
	// RotateToken replaces the tracker's own join token with a new secret
	// (written to join.token too). Members stay members; the former token
	// admits no new device.
	RotateToken(ctx context.Context) (Token, error)
}

// Token is an issued join token, or the tracker's own (AllFolders).
type Token struct {
	Token      string     `json:"token"`
	AllFolders bool       `json:"all_folders,omitempty"`
	Folders    []string   `json:"folders"`
	Expires    *time.Time `json:"expires,omitempty"`
}

// Member is one member as the tracker knows it.
type Member struct {
	Device     string     `json:"device"`
	Name       string     `json:"name,omitempty"`
	AllFolders bool       `json:"all_folders"`
	Folders    []string   `json:"folders"`             // when not AllFolders
	Joined     *time.Time `json:"joined,omitempty"`    // absent: joined before grants existed
	LastSeen   *time.Time `json:"last_seen,omitempty"` // last registration or session end
	Connected  []string   `json:"connected"`           // folders with a live session now
}

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	Folders   []string `json:"folders"`
	ExpiresIn string   `json:"expires_in,omitempty"` // Go duration; "" or "0": never
}

// FoldersRequest is the body of PUT /v1/members/{device}/folders.
type FoldersRequest struct {
	AllFolders bool     `json:"all_folders"`
	Folders    []string `json:"folders"`
}

type membersResponse struct {
	Members []Member `json:"members"`
}

type errorResponse struct {
	Error string `json:"error"`
}
