package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestTokenOnArgs: the peer warns about a join token only when it is on
// the command line (visible in ps), not when it comes from DARTSYNC_TOKEN,
// a config file or --token-file.
func TestTokenOnArgs(t *testing.T) {
	const tok = "AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS:AAAAAAAAAAAAAAAAAAAAAAAAAA"
	withToken := writeJSON(t, filepath.Join(t.TempDir(), "c.json"), `{"dir": ["/d"], "token": "`+tok+`"}`)
	for _, tt := range []struct {
		name      string
		env       string
		args      []string
		wantToken bool // Peer.Token set
		want      bool
	}{
		{"--token", "", []string{"peer", "--dir", "/d", "--token", tok}, true, true},
		{"--token=", "", []string{"peer", "--dir", "/d", "--token=" + tok}, true, true},
		{"DARTSYNC_TOKEN", tok, []string{"peer", "--dir", "/d"}, true, false},
		{"config file", "", []string{"peer", "--config", withToken}, true, false},
		{"--token-file", "", []string{"peer", "--dir", "/d", "--token-file", "/f"}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DARTSYNC_TOKEN", tt.env)
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("HOME", t.TempDir())
			var c cli
			parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatalf("kong exited on %v", tt.args) }))...)
			if err != nil {
				t.Fatal(err)
			}
			k, err := parser.Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if (c.Peer.Token != "") != tt.wantToken {
				t.Fatalf("token %q, want set: %v", c.Peer.Token, tt.wantToken)
			}
			if got := tokenOnArgs(k); got != tt.want {
				t.Fatalf("tokenOnArgs = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestNoDiscoveryFlag: --no-discovery (or DARTSYNC_NO_DISCOVERY=1) turns
// LAN discovery off on both commands; a peer without it may join with a
// token alone, a peer with it needs --tracker (exit status 2, before
// anything is created).
func TestNoDiscoveryFlag(t *testing.T) {
	const tok = "AAAQEAY-EAUDAO5-CAJBIFQ-YDIOB4X-IBCEQTC-QKRMFYM-YDENBWH-A5DYPQS:AAAAAAAAAAAAAAAAAAAAAAAAAA"
	dir := filepath.Join(t.TempDir(), "folder")
	for _, tt := range []struct {
		name    string
		env     string
		args    []string
		wantOff bool
		wantErr string // from Run, which returns before starting anything; "" = not run
	}{
		{"peer default", "", []string{"peer", "--dir", dir, "--token", tok}, false, ""},
		{"peer flag", "", []string{"peer", "--dir", dir, "--token", tok, "--no-discovery"}, true, "with --no-discovery a join token needs --tracker"},
		{"peer env", "1", []string{"peer", "--dir", dir, "--token", tok}, true, "with --no-discovery a join token needs --tracker"},
		{"tracker default", "", []string{"tracker"}, false, ""},
		{"tracker flag", "", []string{"tracker", "--no-discovery"}, true, ""},
		{"tracker env", "1", []string{"tracker"}, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DARTSYNC_NO_DISCOVERY", tt.env) // restored after the test
			if tt.env == "" {
				os.Unsetenv("DARTSYNC_NO_DISCOVERY")
			}
			t.Setenv("DARTSYNC_TOKEN", "")
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("HOME", t.TempDir())
			var c cli
			parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatalf("kong exited on %v", tt.args) }))...)
			if err != nil {
				t.Fatal(err)
			}
			k, err := parser.Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			off := c.Peer.NoDiscovery
			if tt.args[0] == "tracker" {
				off = c.Tracker.NoDiscovery
			}
			if off != tt.wantOff {
				t.Fatalf("no-discovery = %v, want %v", off, tt.wantOff)
			}
			if tt.wantErr == "" {
				return
			}
			err = c.Peer.Run(t.Context(), slog.New(slog.DiscardHandler), k)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCodeOf(err) != 2 {
				t.Fatalf("Run = %v (exit %d), want %q, exit 2", err, exitCodeOf(err), tt.wantErr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("folder created: %v", err)
			}
		})
	}
}
