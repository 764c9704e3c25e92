package tracker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// joinAnswer registers dev for the default folder over real QUIC,
// presenting secret, and returns the ERROR code (ERROR_UNSPECIFIED for
// REGISTERED) and message.
func joinAnswer(t *testing.T, srv *Server, dev *identity.Identity, secret []byte) (trackerpb.ErrorCode, string) {
	t.Helper()
	p := dialRaw(t, srv.Addr().String(), srv.Token(), dev)
	m := p.registerFolder(t, "", secret)
	if m.GetRegistered() != nil {
		return trackerpb.ErrorCode_ERROR_UNSPECIFIED, ""
	}
	if e := m.GetError(); e != nil {
		return e.Code, e.Message
	}
	t.Fatalf("REGISTER answered %v", m)
	return 0, ""
}

// TestRemovedMemberRefused: a removed member reconnecting is refused with
// every secret made before its removal (the tracker's token, a token issued
// earlier, none), and with a wrong one; a token made after its removal
// (issued, or the tracker's token rotated) admits it again. A device that
// was never removed joins with the old token meanwhile.
func TestRemovedMemberRefused(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	svc := testAdmin(srv)
	own := srv.Token()
	dev := newTestIdentity(t)
	if code, msg := joinAnswer(t, srv, dev, own.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("first join: %v %s", code, msg)
	}
	session := dialRaw(t, srv.Addr().String(), own, dev)
	if m := session.registerFolder(t, "", nil); m.GetRegistered() == nil {
		t.Fatalf("member's session: %v", m)
	}
	earlier := issue(t, srv, "")
	if err := svc.RemoveMember(t.Context(), dev.ID.String()); err != nil {
		t.Fatal(err)
	}
	if e := session.readError(t); e.Code != trackerpb.ErrorCode_ERROR_NOT_MEMBER {
		t.Fatalf("removed member's live session got %v, want ERROR_NOT_MEMBER", e)
	}
	wrong := make([]byte, SecretSize)
	for _, tt := range []struct {
		name     string
		secret   []byte
		wantCode trackerpb.ErrorCode
		wantMsg  string
	}{
		{"the tracker's token", own.Secret[:], trackerpb.ErrorCode_ERROR_NOT_MEMBER, "was removed"},
		{"a token issued before the removal", earlier.Secret[:], trackerpb.ErrorCode_ERROR_NOT_MEMBER, "was removed"},
		{"no token", nil, trackerpb.ErrorCode_ERROR_NOT_MEMBER, "was removed"},
		{"a wrong token", wrong, trackerpb.ErrorCode_ERROR_WRONG_TOKEN, "does not match"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := joinAnswer(t, srv, dev, tt.secret)
			if code != tt.wantCode || !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("got %v %q, want %v %q", code, msg, tt.wantCode, tt.wantMsg)
			}
			if _, ok := srv.store.member(dev.ID); ok {
				t.Fatal("the removed device is a member again")
			}
		})
	}
	// the old token still admits a device that was never removed
	if code, msg := joinAnswer(t, srv, newTestIdentity(t), own.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("a new device with the tracker's token: %v %s", code, msg)
	}

	// a token made after the removal admits it again, as a new member
	later := issue(t, srv, "")
	if code, msg := joinAnswer(t, srv, dev, later.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("removed device with a token issued after its removal: %v %s", code, msg)
	}
	// removed again; the tracker's token, rotated since, admits it too
	if err := svc.RemoveMember(t.Context(), dev.ID.String()); err != nil {
		t.Fatal(err)
	}
	if code, _ := joinAnswer(t, srv, dev, own.Secret[:]); code != trackerpb.ErrorCode_ERROR_NOT_MEMBER {
		t.Fatalf("removed twice, with the tracker's token: %v", code)
	}
	if _, err := svc.RotateToken(t.Context()); err != nil {
		t.Fatal(err)
	}
	rotated := srv.Token()
	if code, msg := joinAnswer(t, srv, dev, rotated.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("removed device with the rotated tracker token: %v %s", code, msg)
	}
}

// TestRotateToken: a rotation writes the new token to join.token; the
// former one admits no new device but every member stays one, presenting it
// or not; the new one admits new devices. After a restart the same holds.
func TestRotateToken(t *testing.T) {
	dir := t.TempDir()
	srv, stop := runServer(t, dir)
	old := srv.Token()
	member := newTestIdentity(t)
	if code, msg := joinAnswer(t, srv, member, old.Secret[:]); code != trackerpb.ErrorCode_ERROR_UNSPECIFIED {
		t.Fatalf("join: %v %s", code, msg)
	}
	at, err := testAdmin(srv).RotateToken(t.Context())
	if err != nil || !at.AllFolders {
		t.Fatalf("rotate: %+v %v", at, err)
	}
	check := func(t *testing.T, srv *Server) {
		cur := srv.Token()
		if cur == old || srv.Token().String() != at.Token {
			t.Fatalf("Token() = %s; want the rotated %s", srv.Token(), at.Token)
		}
		if b, err := os.ReadFile(filepath.Join(dir, TokenFile)); err != nil || strings.TrimSpace(string(b)) != at.Token {
			t.Fatalf("join.token holds %q (%v), want the rotated token", b, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, TokenFile)); err != nil {
			t.Fatal(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Fatalf("join.token has mode %v, want 0600", fi.Mode().Perm())
		}
		for _, tt := range []struct {
			name     string
			dev      *identity.Identity
			secret   []byte
			wantCode trackerpb.ErrorCode
			wantMsg  string
		}{
			{"member with the old token", member, old.Secret[:], trackerpb.ErrorCode_ERROR_UNSPECIFIED, ""},
			{"member with no token", member, nil, trackerpb.ErrorCode_ERROR_UNSPECIFIED, ""},
			{"member with the new token", member, cur.Secret[:], trackerpb.ErrorCode_ERROR_UNSPECIFIED, ""},
			{"new device with the old token", newTestIdentity(t), old.Secret[:], trackerpb.ErrorCode_ERROR_WRONG_TOKEN, "replaced"},
			{"new device with the new token", newTestIdentity(t), cur.Secret[:], trackerpb.ErrorCode_ERROR_UNSPECIFIED, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if code, msg := joinAnswer(t, srv, tt.dev, tt.secret); code != tt.wantCode || !strings.Contains(msg, tt.wantMsg) {
					t.Fatalf("got %v %q, want %v %q", code, msg, tt.wantCode, tt.wantMsg)
				}
			})
		}
	}
	t.Run("running", func(t *testing.T) { check(t, srv) })
	stop()
	t.Run("restarted", func(t *testing.T) { check(t, startServer(t, dir, ServerConfig{})) })
}

// runServer is startServer with a stop of its own, for a restart.
func runServer(t *testing.T, dir string) (*Server, func()) {
	t.Helper()
	s, err := New(ServerConfig{StateDir: dir, Listen: "127.0.0.1:0", Interval: 100 * time.Millisecond, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// TestConcurrentRotations: rotations at once leave one secret everywhere:
// in memory, in join.token, and in the state a restart reads.
func TestConcurrentRotations(t *testing.T) {
	dir := t.TempDir()
	srv, stop := runServer(t, dir)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := testAdmin(srv).RotateToken(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cur := srv.Token()
	if b, err := os.ReadFile(filepath.Join(dir, TokenFile)); err != nil || strings.TrimSpace(string(b)) != cur.String() {
		t.Fatalf("join.token %q (%v), the tracker uses %s", b, err, cur)
	}
	stop()
	if again := startServer(t, dir, ServerConfig{}).Token(); again != cur {
		t.Fatalf("after a restart the token is %s, before it %s", again, cur)
	}
}
