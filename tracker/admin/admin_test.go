package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeService records calls and answers from a fixed member table.
type fakeService struct {
	mu    sync.Mutex
	calls []string
}

const knownDevice = "AAAAAAA-BBBBBBB"

func (f *fakeService) note(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeService) IssueToken(_ context.Context, folders []string, ttl time.Duration) (Token, error) {
	f.note(fmt.Sprintf("token %q %v", folders, ttl))
	return Token{Token: "TRACKER:SECRET", Folders: folders}, nil
}

func (f *fakeService) Members(context.Context) ([]Member, error) {
	f.note("members")
	return []Member{{Device: knownDevice, AllFolders: true, Folders: []string{}, Connected: []string{""}}}, nil
}

func (f *fakeService) SetFolders(_ context.Context, dev string, all bool, folders []string) (Member, error) {
	f.note(fmt.Sprintf("set %s %v %q", dev, all, folders))
	if dev != knownDevice {
		return Member{}, fmt.Errorf("%w: %s", ErrNotFound, dev)
	}
	return Member{Device: dev, AllFolders: all, Folders: folders}, nil
}

func (f *fakeService) RemoveMember(_ context.Context, dev string) error {
	f.note("remove " + dev)
	if dev != knownDevice {
		return fmt.Errorf("%w: %s", ErrNotFound, dev)
	}
	return nil
}

func (f *fakeService) RotateToken(context.Context) (Token, error) {
	f.note("rotate")
	return Token{Token: "TRACKER:NEWSECRET", AllFolders: true, Folders: []string{}}, nil
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantBody                 string // substring of the answer
		wantCall                 string // "" = the service is not called
	}{
		{"rotate token", "POST", "/v1/token/rotate", "", 200, `"all_folders":true`, "rotate"},
		{"issue token", "POST", "/v1/tokens", `{"folders":["photos"],"expires_in":"24h"}`, 200, `"token":"TRACKER:SECRET"`, `token ["photos"] 24h0m0s`},
		{"issue token, no expiry", "POST", "/v1/tokens", `{"folders":["photos",""]}`, 200, `"folders":["photos",""]`, `token ["photos" ""] 0s`},
		{"token without folders", "POST", "/v1/tokens", `{"folders":[]}`, 400, "at least one folder", ""},
		{"token, bad duration", "POST", "/v1/tokens", `{"folders":["a"],"expires_in":"soon"}`, 400, "expires_in", ""},
		{"token, negative duration", "POST", "/v1/tokens", `{"folders":["a"],"expires_in":"-1h"}`, 400, "outside", ""},
		{"token, unknown field", "POST", "/v1/tokens", `{"folders":["a"],"admin":true}`, 400, "unknown field", ""},
		{"token, trailing data", "POST", "/v1/tokens", `{"folders":["a"]} {}`, 400, "data after", ""},
		{"token, not JSON", "POST", "/v1/tokens", `folders=a`, 400, "invalid request", ""},
		{"token, NUL in name", "POST", "/v1/tokens", `{"folders":["a\u0000b"]}`, 400, "without NUL", ""},
		{"token, body too large", "POST", "/v1/tokens", `{"folders":["` + strings.Repeat("a", MaxRequestSize) + `"]}`, 400, "invalid request", ""},
		{"token, GET", "GET", "/v1/tokens", ``, 405, "", ""},
		{"members", "GET", "/v1/members", ``, 200, `"device":"` + knownDevice + `"`, "members"},
		{"narrow", "PUT", "/v1/members/" + knownDevice + "/folders", `{"folders":["photos"]}`, 200, `"folders":["photos"]`, `set ` + knownDevice + ` false ["photos"]`},
		{"widen", "PUT", "/v1/members/" + knownDevice + "/folders", `{"all_folders":true}`, 200, `"all_folders":true`, `set ` + knownDevice + ` true []`},
		{"both all and folders", "PUT", "/v1/members/" + knownDevice + "/folders", `{"all_folders":true,"folders":["a"]}`, 400, "either", ""},
		{"neither", "PUT", "/v1/members/" + knownDevice + "/folders", `{}`, 400, "either", ""},
		{"unknown member", "PUT", "/v1/members/ZZZZZZZZ/folders", `{"folders":["a"]}`, 404, "no such member", `set ZZZZZZZZ false ["a"]`},
		{"device too short", "PUT", "/v1/members/ABC/folders", `{"folders":["a"]}`, 400, "at least its first 7", ""},
		{"device with bad characters", "DELETE", "/v1/members/AAAAAAA%2F..", ``, 400, "not a device ID", ""},
		{"remove", "DELETE", "/v1/members/" + knownDevice, ``, 204, "", "remove " + knownDevice},
		{"remove unknown", "DELETE", "/v1/members/ZZZZZZZZ", ``, 404, "no such member", "remove ZZZZZZZZ"},
		{"no such endpoint", "GET", "/v1/secret", ``, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeService{}
			rec := httptest.NewRecorder()
			Handler(svc, nil).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("%s %s: %d %q; want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			var want []string
			if tt.wantCall != "" {
				want = []string{tt.wantCall}
			}
			if !slices.Equal(svc.calls, want) {
				t.Fatalf("service calls %q, want %q", svc.calls, want)
			}
		})
	}
}

// TestClientOverSocket: the Client reaches a Handler on a Unix socket and
// maps the answers back to the sentinels.
func TestClientOverSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), SocketFile)
	cl := NewClient(sock)
	if _, err := cl.Members(t.Context()); !IsNotRunning(err) {
		t.Fatalf("no socket: %v, want IsNotRunning", err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, &fakeService{}, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	tok, err := cl.IssueToken(t.Context(), []string{"photos"}, time.Hour)
	if err != nil || tok.Token != "TRACKER:SECRET" {
		t.Fatalf("IssueToken: %+v %v", tok, err)
	}
	ms, err := cl.Members(t.Context())
	if err != nil || len(ms) != 1 || ms[0].Device != knownDevice {
		t.Fatalf("Members: %+v %v", ms, err)
	}
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"set folders", func() error { _, err := cl.SetFolders(t.Context(), knownDevice, false, []string{"a"}); return err }, nil},
		{"set folders of unknown", func() error { _, err := cl.SetFolders(t.Context(), "ZZZZZZZZ", true, nil); return err }, ErrNotFound},
		{"set nothing", func() error { _, err := cl.SetFolders(t.Context(), knownDevice, false, nil); return err }, ErrInvalid},
		{"remove", func() error { return cl.RemoveMember(t.Context(), knownDevice) }, nil},
		{"remove unknown", func() error { return cl.RemoveMember(t.Context(), "ZZZZZZZZ") }, ErrNotFound},
		{"rotate", func() error { _, err := cl.RotateToken(t.Context()); return err }, nil},
		{"token without folders", func() error { _, err := cl.IssueToken(t.Context(), nil, 0); return err }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Count(err.Error(), tt.wantErr.Error()) != 1 {
				t.Fatalf("sentinel repeated in %q", err)
			}
		})
	}
	// a request the server refuses at the HTTP level is not a panic or a hang
	req, _ := http.NewRequestWithContext(t.Context(), "PATCH", "http://tracker/v1/members", nil)
	if resp, err := cl.http.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
