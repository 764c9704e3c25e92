package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// parseWith parses args as main does, with the user config directory at
// configHome; it returns the parsed command line or the parse error.
func parseWith(t *testing.T, configHome string, args ...string) (*cli, error) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", configHome)
	t.Setenv("HOME", configHome) // os.UserConfigDir on macOS
	var c cli
	parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatalf("kong exited on %v", args) }))...)
	if err != nil {
		return nil, err
	}
	_, err = parser.Parse(args)
	return &c, err
}

func writeJSON(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPeerConfigFile: how kong's JSON resolver maps the config file onto
// dartsync peer's flags: a repeatable --dir is a JSON array (a single
// string is one folder), dashed names also in snake_case, durations as
// text; the command line wins (a --dir on it replaces the file's list);
// the default file (user config dir) is read by `dartsync peer` alone and
// gives way to --config; the tracker does not read it.
func TestPeerConfigFile(t *testing.T) {
	home := t.TempDir()
	def := writeJSON(t, filepath.Join(home, "dartsync", "config.json"),
		`{"dir": ["work=/w", "photos=/p"], "tracker": "t.example:7000", "listen": ":7100", "keep-versions": "12h"}`)
	other := writeJSON(t, filepath.Join(t.TempDir(), "other.json"),
		`{"dir": "/single", "keep_versions": "2d", "state": "/s"}`)
	bad := writeJSON(t, filepath.Join(t.TempDir(), "bad.json"), `{"dir": [`)
	_ = def

	tests := []struct {
		name      string
		home      string
		args      []string
		wantDirs  []string
		wantTrack string
		wantKeep  time.Duration
		wantState string
		wantErr   string
	}{
		{"default file alone", home, []string{"peer"}, []string{"work=/w", "photos=/p"}, "t.example:7000", 12 * time.Hour, "", ""},
		{"command line dir replaces the list", home, []string{"peer", "--dir", "music=/m"}, []string{"music=/m"}, "t.example:7000", 12 * time.Hour, "", ""},
		{"a comma is part of a path", home, []string{"peer", "--dir", "/a, b", "--dir", "x=/c,d"}, []string{"/a, b", "x=/c,d"}, "t.example:7000", 12 * time.Hour, "", ""},
		{"--config instead of the default", home, []string{"peer", "--config", other}, []string{"/single"}, "", 48 * time.Hour, "/s", ""},
		{"no default file, no dir", t.TempDir(), []string{"peer"}, nil, "", 0, "", "--dir"},
		{"malformed --config", home, []string{"peer", "--config", bad}, nil, "", 0, "", "unexpected EOF"},
		{"missing --config", home, []string{"peer", "--config", filepath.Join(home, "none.json")}, nil, "", 0, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseWith(t, tt.home, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := c.Peer
			if !slices.Equal(p.Dirs, tt.wantDirs) || p.Tracker != tt.wantTrack || time.Duration(p.KeepVersions) != tt.wantKeep || p.State != tt.wantState {
				t.Fatalf("dirs %q tracker %q keep %v state %q; want %q %q %v %q",
					p.Dirs, p.Tracker, time.Duration(p.KeepVersions), p.State, tt.wantDirs, tt.wantTrack, tt.wantKeep, tt.wantState)
			}
		})
	}

	// the tracker has a --listen too: the peer's config file is not its
	c, err := parseWith(t, home, "tracker", "--state", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Tracker.Listen == ":7100" {
		t.Fatal("the tracker read the peer's config file")
	}
}

// TestParseDir: --dir [NAME=]PATH.
func TestParseDir(t *testing.T) {
	home, _ := os.UserHomeDir()
	tests := []struct {
		in       string
		wantName string
		wantPath string
		wantErr  bool
	}{
		{"/data/sync", "", "/data/sync", false},
		{"work=/data/work", "work", "/data/work", false},
		{"photos=~/photos", "photos", filepath.Join(home, "photos"), false},
		{"~/x", "", filepath.Join(home, "x"), false},
		{"./a=b/c", "", "./a=b/c", false},
		{"=/data", "", "", true},
		{"work=", "", "", true},
		{".hidden=/data", "", "", true},
		{"sp ace=/data", "", "", true},
	}
	for _, tt := range tests {
		name, path, err := parseDir(tt.in)
		if (err != nil) != tt.wantErr || err == nil && (name != tt.wantName || path != tt.wantPath) {
			t.Errorf("parseDir(%q) = %q, %q, %v; want %q, %q, error %v", tt.in, name, path, err, tt.wantName, tt.wantPath, tt.wantErr)
		}
	}
}

// TestContribConfigFile: contrib/dartsync.json is a valid config file of
// dartsync peer with two folders.
func TestContribConfigFile(t *testing.T) {
	c, err := parseWith(t, t.TempDir(), "peer", "--config", filepath.Join(contribDir, "dartsync.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Peer.Dirs) != 2 || c.Peer.Listen != ":7001" || c.Peer.State == "" {
		t.Fatalf("dirs %q listen %q state %q", c.Peer.Dirs, c.Peer.Listen, c.Peer.State)
	}
	folders, err := c.Peer.folders()
	if err != nil {
		t.Fatal(err)
	}
	if folders[0].Name != "work" || folders[1].Name != "photos" || !strings.HasPrefix(folders[1].StateDir, c.Peer.State) {
		t.Fatalf("folders %+v", folders)
	}
}
