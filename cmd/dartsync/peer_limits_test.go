package main

import (
	"path/filepath"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/bandwidth"
)

// TestPeerLimitFlags: --max-send, --max-recv and --lan-unlimited reach
// peer.Config; a bad rate is refused by the parser.
func TestPeerLimitFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    bandwidth.Limits
		wantErr bool
	}{
		{nil, bandwidth.Limits{}, false},
		{[]string{"--max-send", "10MB/s"}, bandwidth.Limits{Send: 10e6}, false},
		{[]string{"--max-recv=80Mbit/s", "--lan-unlimited"}, bandwidth.Limits{Recv: 10e6, LANUnlimited: true}, false},
		{[]string{"--max-send", "512KiB/s", "--max-recv", "2MiB"}, bandwidth.Limits{Send: 512 << 10, Recv: 2 << 20}, false},
		{[]string{"--max-send", "0"}, bandwidth.Limits{}, false},
		{[]string{"--max-send", "10"}, bandwidth.Limits{}, true},
		{[]string{"--max-send", "10mbps"}, bandwidth.Limits{}, true},
		{[]string{"--max-recv", "100B/s"}, bandwidth.Limits{}, true},
		{[]string{"--max-send", "-1MB/s"}, bandwidth.Limits{}, true},
	} {
		var c cli
		parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatal("kong exited") }))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parser.Parse(append([]string{"peer", "--dir", t.TempDir()}, tc.args...))
		if (err != nil) != tc.wantErr {
			t.Errorf("peer %v: error %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var cfg peer.Config
		c.Peer.Limits.apply(&cfg)
		if cfg.Bandwidth != tc.want {
			t.Errorf("peer %v: %+v, want %+v", tc.args, cfg.Bandwidth, tc.want)
		}
	}
}

// TestPeerLimitsInConfigFile: the limits can live in the config file
// (rates as text, lan-unlimited as a bool); the command line wins.
func TestPeerLimitsInConfigFile(t *testing.T) {
	cfgFile := writeJSON(t, filepath.Join(t.TempDir(), "c.json"),
		`{"dir": "/d", "max-send": "2MB/s", "max_recv": "80Mbit/s", "lan-unlimited": true}`)
	for _, tc := range []struct {
		args []string
		want bandwidth.Limits
	}{
		{[]string{"peer", "--config", cfgFile}, bandwidth.Limits{Send: 2e6, Recv: 10e6, LANUnlimited: true}},
		{[]string{"peer", "--config", cfgFile, "--max-send", "1MiB/s"}, bandwidth.Limits{Send: 1 << 20, Recv: 10e6, LANUnlimited: true}},
	} {
		c, err := parseWith(t, t.TempDir(), tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		var cfg peer.Config
		c.Peer.Limits.apply(&cfg)
		if cfg.Bandwidth != tc.want {
			t.Errorf("%v: %+v, want %+v", tc.args, cfg.Bandwidth, tc.want)
		}
	}
	bad := writeJSON(t, filepath.Join(t.TempDir(), "bad.json"), `{"dir": "/d", "max-send": "2 parsecs"}`)
	if _, err := parseWith(t, t.TempDir(), "peer", "--config", bad); err == nil {
		t.Error("a bad rate in the config file was accepted")
	}
}
