package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/dashboard"
)

// TestTrackerHTTPFlag: where the dashboard listens for each --http, and what
// a taken address does: the default warns and goes without, an explicit one
// is an error.
func TestTrackerHTTPFlag(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name      string
		flag      *string
		def       string
		wantServe bool
		wantWarn  string
		wantErr   string
		wantExit  int
	}{
		{"default free", nil, free(), true, "", "", 0},
		{"default taken", nil, taken.Addr().String(), false, "default address is taken", "", 0},
		{"explicit free", str(free()), taken.Addr().String(), true, "", "", 0},
		{"explicit taken", str(taken.Addr().String()), free(), false, "", "address already in use", 2},
		{"off", str("off"), free(), false, "", "", 0},
		{"empty", str(""), free(), false, "", "", 0},
		{"bad address", str("no-such-host.invalid:x"), free(), false, "", "--http", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			srv, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: state})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Run(canceled(t)) // releases the state
			var logs bytes.Buffer
			web, err := startTrackerHTTP(tt.flag, tt.def, state, srv, slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErr != "" {
				var ee *exitError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ee) || ee.code != tt.wantExit {
					t.Fatalf("err %v, want %q with exit code %d", err, tt.wantErr, tt.wantExit)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := web.close(); err != nil {
					t.Error(err)
				}
			}()
			if (web.srv != nil) != tt.wantServe {
				t.Fatalf("serving %v, want %v", web.srv != nil, tt.wantServe)
			}
			if tt.wantWarn != "" && (!strings.Contains(logs.String(), tt.wantWarn) || strings.Count(logs.String(), "level=WARN") != 1) {
				t.Fatalf("want one warning %q, log:\n%s", tt.wantWarn, logs.String())
			}
			secret, err := os.ReadFile(filepath.Join(state, dashboard.SecretFile))
			if off := tt.flag != nil && (*tt.flag == "" || *tt.flag == "off"); off {
				if err == nil {
					t.Fatal("--http off made an admin secret")
				}
				return
			}
			if err != nil {
				t.Fatalf("no admin secret file: %v", err)
			}
			if strings.Contains(logs.String(), strings.TrimSpace(string(secret))) {
				t.Fatal("the admin secret is in the log")
			}
			if tt.wantServe {
				resp, err := http.Get("http://" + web.addr.String() + "/healthz")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "ok\n" {
					t.Fatalf("/healthz: %d %q", resp.StatusCode, b)
				}
			}
		})
	}
}

// canceled returns a context that is already done: Run on it releases what
// New opened and returns.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
