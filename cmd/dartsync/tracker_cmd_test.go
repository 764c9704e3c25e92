package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultTrackerState(t *testing.T) {
	tests := []struct {
		name, xdg, home, want string
	}{
		{"xdg set", "/x/state", "/home/u", "/x/state/dartsync/tracker"},
		{"xdg unset", "", "/home/u", "/home/u/.local/state/dartsync/tracker"},
		{"xdg relative is ignored", "rel", "/home/u", "/home/u/.local/state/dartsync/tracker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := defaultTrackerState()
			if err != nil || got != filepath.FromSlash(tt.want) {
				t.Fatalf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestJoinCommand(t *testing.T) {
	tok := "join.token"
	got := joinCommand(&net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 7000}, tok)
	want := "dartsync peer --dir ~/sync --tracker 192.0.2.7:7000 --token-file " + tok
	if got != want {
		t.Fatalf("joinCommand = %q, want %q", got, want)
	}
	// listening on all addresses: some reachable host is named, never 0.0.0.0
	got = joinCommand(&net.UDPAddr{IP: net.IPv6unspecified, Port: 7123}, tok)
	if strings.Contains(got, "0.0.0.0") || strings.Contains(got, "[::]") || !strings.Contains(got, ":7123 --token-file") {
		t.Fatalf("joinCommand on :: = %q", got)
	}
}
