package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// childEnv makes the test binary run a tracker instead of the tests (see
// TestMain): the state directory is the variable's value, the listen address
// is written to <dir>/addr once serving. <dir>/listen, if present, is the
// address to listen on, and <dir>/interval the keep-alive interval.
const childEnv = "DARTSYNC_TRACKER_CHILD"

func runChildTracker(dir string) {
	listen := "127.0.0.1:0"
	if b, err := os.ReadFile(filepath.Join(dir, "listen")); err == nil {
		listen = string(b) // a restart on the address of the run before (restart_test.go)
	}
	interval := 100 * time.Millisecond
	if b, err := os.ReadFile(filepath.Join(dir, "interval")); err == nil {
		if interval, err = time.ParseDuration(string(b)); err != nil {
			fmt.Fprintln(os.Stderr, "child tracker:", err)
			os.Exit(2)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(ServerConfig{StateDir: dir, Listen: listen, Interval: interval, Log: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child tracker:", err)
		os.Exit(2)
	}
	tmp := filepath.Join(dir, "addr.tmp")
	if err := os.WriteFile(tmp, []byte(s.Addr().String()), 0o600); err != nil {
		os.Exit(2)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "addr")); err != nil {
		os.Exit(2)
	}
	_ = s.Run(context.Background()) // until killed
	os.Exit(3)
}

// startChild runs a tracker in a child process on dir and returns it with
// its address.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(waitLimit)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			return cmd, string(b)
		}
		select {
		case <-exited:
			t.Fatalf("child tracker exited: %v", cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("child tracker did not start")
		}
	}
}

func TestKilledTrackerKeepsMembersFilesTombstonesAndSeq(t *testing.T) {
	if testing.Short() {
		t.Skip("starts tracker processes")
	}
	dir := t.TempDir()
	child, addr := startChild(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseToken(string(b))
	if err != nil {
		t.Fatal(err)
	}
	a := startClient(t, addr, tok, nil)
	a.registered(t)
	keep := testFile("keep.txt", "kept", t0, manifest.ID{})
	gone := testFile("gone.txt", "deleted", t0, manifest.ID{})
	a.update(t, keep, gone)
	rs := a.update(t, manifest.NewTombstone("gone.txt", manifest.KindFile, gone.ID, t0+1))
	if rs[0].Outcome != Accepted {
		t.Fatal(rs[0])
	}
	seq := rs[0].Seq // acknowledged, so committed
	a.stop(t)

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, addr = startChild(t, dir)

	// the member is admitted by its certificate alone, and gets everything
	// since 0, tombstone included
	a2 := startClient(t, addr, tok, a.id, withSecret(nil))
	info := a2.registered(t)
	if info.NewMember || info.Seq != seq {
		t.Fatalf("after restart: NewMember %v seq %d, want false %d", info.NewMember, info.Seq, seq)
	}
	a2.rec.wait(t, "both entries", func(r *recorder) bool {
		k, ok1 := r.entry("keep.txt")
		g, ok2 := r.entry("gone.txt")
		return ok1 && ok2 && k.Manifest.ID == keep.ID && g.Manifest.Deleted && g.Seq == seq
	})
	// the deleted version is not resurrected by an announcement of it (a
	// local report of the same bytes would be re-created content: a new
	// version)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rs, err = a2.Update(ctx, []Change{{New: gone, OwnershipOnly: true}})
	if err != nil || rs[0].Outcome != Rejected {
		t.Fatalf("announcing the deleted version: %v %v", rs, err)
	}
	// a stranger is still not a member
	stranger := startClient(t, addr, tok, nil, withSecret(nil))
	if err := stranger.runErr(t); !errors.Is(err, ErrNotMember) || !strings.Contains(err.Error(), "not a member") {
		t.Fatalf("stranger: %v", err)
	}
}
