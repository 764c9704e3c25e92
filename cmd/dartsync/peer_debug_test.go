package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/transfer"
)

// TestPeerDebugFlags: the --debug-* flags reach peer.Config; the names they
// replaced (hidden flags until then) and the removed ones are refused.
func TestPeerDebugFlags(t *testing.T) {
	type got struct {
		retry       time.Duration
		statsEvery  time.Duration
		fetch       transfer.FetchOptions
		killHook    bool
		cpu, memory string
	}
	defaults := got{retry: 5 * time.Second, statsEvery: time.Second}
	tests := []struct {
		args    []string
		want    got
		wantErr bool
	}{
		{nil, defaults, false},
		{[]string{"--debug-retry", "300ms", "--debug-stats-every", "50ms"},
			got{retry: 300 * time.Millisecond, statsEvery: 50 * time.Millisecond}, false},
		{[]string{"--debug-fetch-conns=1", "--debug-fetch-window=16"},
			got{retry: 5 * time.Second, statsEvery: time.Second, fetch: transfer.FetchOptions{Conns: 1, Window: 16}}, false},
		{[]string{"--debug-kill-after-rename"}, got{retry: 5 * time.Second, statsEvery: time.Second, killHook: true}, false},
		{[]string{"--debug-cpuprofile", "/tmp/c.prof", "--debug-memprofile", "/tmp/m.prof"},
			got{retry: 5 * time.Second, statsEvery: time.Second, cpu: "/tmp/c.prof", memory: "/tmp/m.prof"}, false},
		{[]string{"--upload-limit", "1"}, got{}, true},
		{[]string{"--debug-upload-limit", "4194304"}, got{}, true}, // folded into --max-send
		{[]string{"--retry", "1s"}, got{}, true},
		{[]string{"--stats-every", "1s"}, got{}, true},
		{[]string{"--fetch-conns", "1"}, got{}, true},
		{[]string{"--fetch-window", "1"}, got{}, true},
		{[]string{"--cpuprofile", "x"}, got{}, true},
		{[]string{"--memprofile", "x"}, got{}, true},
		{[]string{"--test-kill-after-rename"}, got{}, true},
		{[]string{"--parallel", "2"}, got{}, true},
		{[]string{"--folder", "x"}, got{}, true},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		var c cli
		parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatal("kong exited") }))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parser.Parse(append([]string{"peer", "--dir", t.TempDir()}, tt.args...))
		if (err != nil) != tt.wantErr {
			t.Errorf("peer %v: error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var cfg peer.Config
		c.Peer.Debug.apply(&cfg, log)
		g := got{retry: cfg.Retry, statsEvery: cfg.StatsEvery, fetch: cfg.Fetch,
			killHook: cfg.Debug.AfterRename != nil, cpu: c.Peer.Debug.CPUProfile, memory: c.Peer.Debug.MemProfile}
		if g != tt.want {
			t.Errorf("peer %v: %+v, want %+v", tt.args, g, tt.want)
		}
	}
}
