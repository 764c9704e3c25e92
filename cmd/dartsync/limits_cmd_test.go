package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/localapi"
)

// limitsPeer is a peer API source whose limits live in a real
// bandwidth.Limiter, changed the way the daemon changes them.
type limitsPeer struct {
	fixedSource
	bw *bandwidth.Limiter
}

func (p limitsPeer) Limits() localapi.Limits {
	l := p.bw.Limits()
	return localapi.Limits{MaxSend: int64(l.Send), MaxRecv: int64(l.Recv), LANUnlimited: l.LANUnlimited}
}

func (p limitsPeer) SetLimits(ch localapi.LimitsChange) (localapi.Limits, error) {
	_, err := p.bw.Update(func(l bandwidth.Limits) (bandwidth.Limits, error) {
		var err error
		if ch.MaxSend != nil {
			l.Send, err = bandwidth.ParseRate(*ch.MaxSend)
		}
		if ch.MaxRecv != nil && err == nil {
			l.Recv, err = bandwidth.ParseRate(*ch.MaxRecv)
		}
		if ch.LANUnlimited != nil {
			l.LANUnlimited = *ch.LANUnlimited
		}
		return l, err
	})
	return p.Limits(), err
}

func serveLimitsPeer(t *testing.T, bw *bandwidth.Limiter) string {
	t.Helper()
	state := t.TempDir()
	ep, err := localapi.Listen(state)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- localapi.Serve(ctx, ep, localapi.Handler(ctx, limitsPeer{fixedSource{bus: localapi.NewBus()}, bw}, nil))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return state
}

// TestLimitsCmd: dartsync limits shows the limits, changes what its flags
// name, refuses a bad rate before asking the peer (exit 2), and says when
// no peer runs (exit 3).
func TestLimitsCmd(t *testing.T) {
	bw, err := bandwidth.New(bandwidth.Limits{Send: 10e6})
	if err != nil {
		t.Fatal(err)
	}
	state := serveLimitsPeer(t, bw)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name     string
		cmd      limitsCmd
		wantOut  string // a part of the output
		want     bandwidth.Limits
		wantCode int // exit status; 0: no error
	}{
		{"show", limitsCmd{}, "send:            10MB/s (10000000 bytes/s)", bandwidth.Limits{Send: 10e6}, 0},
		{"send", limitsCmd{MaxSend: "5MB/s"}, "receive:         unlimited", bandwidth.Limits{Send: 5e6}, 0},
		{"recv and lan", limitsCmd{MaxRecv: "80Mbit/s", LANUnlimited: true}, "local subnets:   unlimited", bandwidth.Limits{Send: 5e6, Recv: 10e6, LANUnlimited: true}, 0},
		{"lift send, lan off", limitsCmd{MaxSend: "0", NoLANUnlimited: true}, "send:            unlimited", bandwidth.Limits{Recv: 10e6}, 0},
		{"json", limitsCmd{JSON: true}, `"max_recv":10000000`, bandwidth.Limits{Recv: 10e6}, 0},
		{"bad rate", limitsCmd{MaxSend: "5 parsecs"}, "", bandwidth.Limits{Recv: 10e6}, 2},
		{"too low", limitsCmd{MaxRecv: "1KiB/s"}, "", bandwidth.Limits{Recv: 10e6}, 2},
		{"no peer", limitsCmd{State: t.TempDir()}, "", bandwidth.Limits{Recv: 10e6}, exitNotRunning},
	} {
		var out bytes.Buffer
		c := tc.cmd
		c.Dir = t.TempDir()
		if c.State == "" {
			c.State = state
		}
		c.stdout = &out
		err := c.Run(context.Background(), log)
		if code := exitCodeQuiet(err); code != tc.wantCode {
			t.Errorf("%s: exit %d (%v), want %d", tc.name, code, err, tc.wantCode)
		}
		if !strings.Contains(out.String(), tc.wantOut) {
			t.Errorf("%s: output %q lacks %q", tc.name, out.String(), tc.wantOut)
		}
		if tc.cmd.JSON && json.Valid(out.Bytes()) == false {
			t.Errorf("%s: not JSON: %q", tc.name, out.String())
		}
		if got := bw.Limits(); got != tc.want {
			t.Errorf("%s: limits now %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// exitCodeQuiet is exitCode without its message on stderr.
func exitCodeQuiet(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, localapi.ErrNotRunning) {
		return exitNotRunning
	}
	return 1
}
