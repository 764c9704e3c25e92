package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// runCLI parses args like main and runs the chosen command with out as the
// admin commands' stdout.
func runCLI(t *testing.T, out io.Writer, args ...string) error {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatalf("kong exited on %v", args) }))...)
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return err
	}
	c.Tracker.Token.stdout, c.Tracker.Members.stdout = out, out
	c.Tracker.Token.stderr, c.Tracker.Members.stderr = io.Discard, io.Discard
	kctx.BindTo(t.Context(), (*context.Context)(nil))
	return kctx.Run(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newTrackerState runs a tracker once in a new state directory (so that it
// holds an identity, a token and a state) and stops it.
func newTrackerState(t *testing.T) (string, *tracker.Server) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "t")
	srv, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, srv
}

func serve(t *testing.T, srv *tracker.Server) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestTrackerAdminCommands runs token and members on a stopped tracker's
// state and then through a running tracker's admin socket; the tracker
// itself never starts from them.
func TestTrackerAdminCommands(t *testing.T) {
	dir, srv := newTrackerState(t)
	stop := serve(t, srv)
	stop() // a stopped tracker: the commands open its state
	tests := []struct {
		name     string
		args     []string
		wantOut  string // substring of stdout
		wantErr  string // substring of the error
		wantCode int    // exit code of the error
	}{
		{"token offline", []string{"token", "--folders", "photos,work", "--expires", "1h"}, srv.ID().String() + ":", "", 0},
		{"token as JSON", []string{"token", "--folders", "(default)", "--json"}, `"folders": [` + "\n" + `    ""`, "", 0},
		{"token without folders", []string{"token", "--folders", ""}, "", "either --folders", 2},
		{"token, blank folders", []string{"token", "--folders", " "}, "", "empty folder list", 2},
		{"token, empty name", []string{"token", "--folders", "a,,b"}, "", "empty name", 2},
		{"token, negative expiry", []string{"token", "--folders", "a", "--expires=-1h"}, "", "negative", 2},
		{"members, none", []string{"members"}, "", "", 0},
		{"members list, none", []string{"members", "list"}, "", "", 0},
		{"token neither --folders nor --rotate", []string{"token"}, "", "either --folders", 2},
		{"token both --folders and --rotate", []string{"token", "--folders", "a", "--rotate"}, "", "either --folders", 2},
		{"token --rotate --expires", []string{"token", "--rotate", "--expires", "1h"}, "", "does not apply", 2},
		{"members remove unknown", []string{"members", "remove", "AAAAAAA"}, "", "no such member", 2},
		{"members remove, short prefix", []string{"members", "remove", "AAA"}, "", "at least 7", 2},
		{"members remove with --device", []string{"members", "remove", "AAAAAAA", "--device", "BBBBBBB"}, "", "takes no --device", 2},
		{"members --folders without --device", []string{"members", "--folders", "a"}, "", "need --device", 2},
		{"members two actions", []string{"members", "--device", "AAAAAAA", "--remove", "--all-folders"}, "", "exactly one", 2},
		{"members unknown device", []string{"members", "--device", "AAAAAAA", "--remove"}, "", "no such member", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runCLI(t, &out, append(append([]string{"tracker"}, tt.args...), "--state", dir)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCodeOf(err) != tt.wantCode {
					t.Fatalf("err = %v (code %d), want %q (code %d)", err, exitCodeOf(err), tt.wantErr, tt.wantCode)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("err = %v, out %q; want %q", err, out.String(), tt.wantOut)
			}
		})
	}

	// a device joins with a limited token issued offline, through the running tracker
	var out bytes.Buffer
	if err := runCLI(t, &out, "tracker", "token", "--folders", "photos", "--state", dir); err != nil {
		t.Fatal(err)
	}
	tok, err := tracker.ParseToken(out.String())
	if err != nil {
		t.Fatal(err)
	}
	srv2, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer serve(t, srv2)()
	if srv2.AdminSocket() == "" {
		t.Fatal("no admin socket")
	}
	dev := joinOnce(t, srv2, tok, "photos")
	out.Reset()
	if err := runCLI(t, &out, "tracker", "members", "--state", dir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), dev.ID.String()) || !strings.Contains(out.String(), "photos") {
		t.Fatalf("members after the join: %q", out.String())
	}
	out.Reset()
	if err := runCLI(t, &out, "tracker", "members", "--state", dir, "--device", dev.ID.String()[:9], "--folders", "photos,work"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "photos,work") {
		t.Fatalf("after widening: %q", out.String())
	}
	out.Reset()
	if err := runCLI(t, &out, "tracker", "members", "--state", dir, "--device", dev.ID.String(), "--all-folders", "--json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"all_folders": true`) {
		t.Fatalf("after --all-folders: %q", out.String())
	}
	if err := runCLI(t, &out, "tracker", "members", "--state", dir, "--device", dev.ID.String(), "--remove"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runCLI(t, &out, "tracker", "members", "--state", dir); err != nil || strings.Contains(out.String(), dev.ID.String()) {
		t.Fatalf("after --remove: %q %v", out.String(), err)
	}
}

func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// joinOnce joins a new device with tok on folder and returns its identity.
func joinOnce(t *testing.T, srv *tracker.Server, tok tracker.Token, folder string) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := make(chan tracker.RegisterInfo, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cl := tracker.NewClient(tracker.ClientConfig{
		Addr: srv.Addr().String(), Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:], Folder: folder,
		Registering: func(i tracker.RegisterInfo) error {
			select {
			case reg <- i:
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
	case err := <-done:
		t.Fatalf("client ended: %v", err)
	}
	return id
}

type nopHandler struct{}

func (nopHandler) Registered(tracker.RegisterInfo) {}
func (nopHandler) Updates([]tracker.Entry)         {}
func (nopHandler) PeersChanged([]tracker.PeerInfo) {}
