package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// TestMembersRemoveAndRotateStopped: members list, members remove and token
// --rotate on a stopped tracker's state; the tracker started afterwards
// refuses the removed member with the token it joined with, keeps the other
// member, and admits new devices with the rotated token only.
func TestMembersRemoveAndRotateStopped(t *testing.T) {
	dir, srv := newTrackerState(t)
	stop := serve(t, srv)
	old := srv.Token()
	a := joinOnce(t, srv, old, "")
	b := joinOnce(t, srv, old, "")
	stop()

	var out bytes.Buffer
	if err := runCLI(t, &out, "tracker", "members", "list", "--state", dir); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("members list: %d lines, want one per member:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, a.ID.String()+" ") && !strings.HasPrefix(l, b.ID.String()+" ") {
			t.Fatalf("members list line %q does not start with a member's full device ID", l)
		}
	}
	if err := runCLI(t, &out, "tracker", "members", "remove", a.ID.String()[:8], "--state", dir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runCLI(t, &out, "tracker", "token", "--rotate", "--state", dir); err != nil {
		t.Fatal(err)
	}
	rotated, err := tracker.ParseToken(out.String())
	if err != nil || rotated == old {
		t.Fatalf("token --rotate printed %q (%v)", out.String(), err)
	}
	if f, _ := os.ReadFile(filepath.Join(dir, tracker.TokenFile)); strings.TrimSpace(string(f)) != rotated.String() {
		t.Fatalf("join.token holds %q, want the rotated token", f)
	}

	srv2, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer serve(t, srv2)()
	if srv2.Token() != rotated {
		t.Fatal("the restarted tracker does not use the rotated token")
	}
	newDev := func() *identity.Identity {
		id, err := identity.New()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, tt := range []struct {
		name    string
		id      *identity.Identity
		tok     tracker.Token
		wantErr error
	}{
		{"removed member, its token", a, old, tracker.ErrNotMember},
		{"removed member, the rotated token", a, rotated, nil}, // made after its removal
		{"other member, the old token", b, old, nil},
		{"new device, the old token", newDev(), old, tracker.ErrWrongToken},
		{"new device, the rotated token", newDev(), rotated, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tryJoin(t, srv2, tt.tok, tt.id); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("join: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// tryJoin registers id on the default folder presenting tok's secret and
// returns nil once registered, or the error the client stopped with.
func tryJoin(t *testing.T, srv *tracker.Server, tok tracker.Token, id *identity.Identity) error {
	t.Helper()
	reg := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cl := tracker.NewClient(tracker.ClientConfig{
		Addr: srv.Addr().String(), Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:],
		Registering: func(tracker.RegisterInfo) error {
			select {
			case reg <- struct{}{}:
			default:
			}
			return nil
		},
		Handler: nopHandler{},
	})
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-reg:
		return nil
	case err := <-done:
		done <- err
		return err
	}
}
