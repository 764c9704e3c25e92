package main

import (
	"path/filepath"
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
