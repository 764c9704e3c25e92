package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/disktest"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestOpenWaitsForRoom: a peer stopped with its state's disk full, and
// its stores' reserves used up, cannot open its stores (opening writes
// what their logs hold). New fails with an ENOSPC, never a panic;
// NewContext says so once and waits, then opens once the disk has room,
// and the peer runs with everything it had.
func TestOpenWaitsForRoom(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, _ := n.startInside(tmpfsFolder(t, 32<<20))
	data := []byte("synced before the disk filled")
	replaceFile(t, filepath.Join(a.root, "f.txt"), data)
	waitFor(t, "f.txt on b", fileIs(filepath.Join(b.root, "f.txt"), data))
	b.stop()

	state := filepath.Join(b.root, manifest.StateDir)
	for _, dir := range []string{filepath.Join(state, index.DirName), filepath.Join(state, "chunks")} {
		if err := os.Remove(filepath.Join(dir, kvstore.ReserveName)); err != nil {
			t.Fatalf("reserve of %s: %v", dir, err)
		}
	}
	fillPath := filepath.Join(b.root, "fill") // removed before the peer runs
	disktest.Fill(t, fillPath)

	cfg := b.d.cfg // as restart: the membership the index keeps
	cfg.Secret = nil
	cfg.TrackerAddr, cfg.TrackerID = "", identity.DeviceID{}
	rec, log := newLogRecorder()
	cfg.Log = log
	if _, err := New(cfg); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("New on a full disk: %v, want an ENOSPC", err)
	}
	type opened struct {
		d   *Daemon
		err error
	}
	got := make(chan opened, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		d, err := NewContext(ctx, cfg)
		got <- opened{d, err}
	}()
	waitFor(t, "the warning", func() bool { return rec.count("cannot open the folder's state: its disk is full") == 1 })
	select {
	case o := <-got:
		t.Fatalf("NewContext returned on a full disk: %v", o.err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := os.Remove(fillPath); err != nil {
		t.Fatal(err)
	}
	var o opened
	select {
	case o = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("NewContext still waiting with room on the disk")
	}
	if o.err != nil {
		t.Fatalf("NewContext with room: %v", o.err)
	}
	if rec.count("cannot open the folder's state") != 1 {
		t.Errorf("warned %d times, want once", rec.count("cannot open the folder's state"))
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.d.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	later := []byte("sent after the peer opened")
	replaceFile(t, filepath.Join(a.root, "g.txt"), later)
	waitFor(t, "g.txt on b", fileIs(filepath.Join(b.root, "g.txt"), later))
	if ie, ok := o.d.folders[0].idx.Get("f.txt"); !ok || ie.Manifest.Deleted {
		t.Errorf("f.txt lost from the index: %+v %v", ie, ok)
	}
}
