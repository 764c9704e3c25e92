package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/marker"
)

type fixedSource struct {
	st  localapi.Status
	bus *localapi.Bus
}

func (f fixedSource) Status() localapi.Status { return f.st }
func (f fixedSource) Events() *localapi.Bus   { return f.bus }

// servePeerAPI serves st on the control socket of a new state directory
// until the test ends, and returns that directory.
func servePeerAPI(t *testing.T, st localapi.Status) string {
	t.Helper()
	state, _ := servePeerAPIStop(t, st)
	return state
}

// servePeerAPIStop is servePeerAPI with a stop that ends the server.
func servePeerAPIStop(t *testing.T, st localapi.Status) (state string, stop func()) {
	t.Helper()
	state = t.TempDir()
	ep, err := localapi.Listen(state)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- localapi.Serve(ctx, ep, localapi.Handler(ctx, fixedSource{st, localapi.NewBus()}, nil))
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return state, stop
}

// TestStatusCmd: the peer is found through the folder's marker (its
// control field, or its state directory in an older marker) or --state;
// without an answering peer the command fails with ErrNotRunning, which
// exits 3.
func TestStatusCmd(t *testing.T) {
	st := baseStatus()
	st.Folders = []localapi.Folder{{Path: "/x", State: localapi.StateIdle, Files: 2, FilesInSync: 2}}
	running := servePeerAPI(t, st)
	stopped := t.TempDir()
	folder := func(m *marker.Marker) string {
		dir := t.TempDir()
		if m != nil {
			if err := marker.Write(dir, *m); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name    string
		cmd     statusCmd
		want    string // in the output
		wantErr error
	}{
		{"marker with control", statusCmd{Dir: folder(&marker.Marker{StateDir: running, Control: localapi.ControlPath(running)})}, "2 of 2 files", nil},
		{"older marker: state only", statusCmd{Dir: folder(&marker.Marker{StateDir: running})}, "2 of 2 files", nil},
		{"--state given", statusCmd{Dir: folder(nil), State: running}, "peer AAAAAAA", nil},
		{"json", statusCmd{Dir: folder(&marker.Marker{StateDir: running}), JSON: true}, `"files_in_sync":2`, nil},
		{"peer stopped", statusCmd{Dir: folder(&marker.Marker{StateDir: stopped})}, "", localapi.ErrNotRunning},
		{"no marker", statusCmd{Dir: folder(nil)}, "", localapi.ErrNotRunning},
		{"--state without a peer", statusCmd{Dir: folder(nil), State: stopped}, "", localapi.ErrNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.cmd.stdout = &out
			err := tt.cmd.Run(context.Background(), slog.New(slog.DiscardHandler))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if code := exitCode(err); code != exitNotRunning {
					t.Errorf("exit code %d, want %d", code, exitNotRunning)
				}
				if !strings.Contains(err.Error(), "peer not running") {
					t.Errorf("message %q does not say the peer is not running", err)
				}
				return
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Fatalf("output lacks %q:\n%s", tt.want, out.String())
			}
			if tt.cmd.JSON {
				var got localapi.Status
				dec := json.NewDecoder(&out)
				if err := dec.Decode(&got); err != nil || got.Device != st.Device || dec.More() {
					t.Fatalf("--json: %+v, %v (more: %v)", got, err, dec.More())
				}
			}
		})
	}
}

// TestStatusWatch: --watch repeats the status until interrupted, each
// block after a blank line when stdout is not a terminal; a peer that stops
// meanwhile is reported and waited for.
func TestStatusWatch(t *testing.T) {
	state, stopPeer := servePeerAPIStop(t, baseStatus())
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := statusCmd{Dir: t.TempDir(), State: state, Watch: true, Interval: 20 * time.Millisecond, stdout: out}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, slog.New(slog.DiscardHandler)) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(out.Name())
		if strings.Count(string(b), "peer AAAAAAA") >= 3 {
			if strings.Contains(string(b), clearScreen) {
				t.Error("screen cleared in a file")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 blocks not written:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopPeer()
	for {
		b, _ := os.ReadFile(out.Name())
		if strings.Contains(string(b), "peer not running; waiting for it") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a stopped peer not reported:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
