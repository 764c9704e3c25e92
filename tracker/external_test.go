package tracker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// TestExternalTracker drives a tracker running in another process (the
// real binary, natively or under qemu-aarch64: see .ci/pi-check.sh). It is
// skipped unless DARTSYNC_EXTERNAL_TRACKER (host:port) and
// DARTSYNC_EXTERNAL_TOKEN_FILE are set. With DARTSYNC_LOAD_FILES=N, 16 peers
// each report N files; with DARTSYNC_TRACKER_PID the tracker's VmRSS is
// logged after the load.
func TestExternalTracker(t *testing.T) {
	addr, tokFile := os.Getenv("DARTSYNC_EXTERNAL_TRACKER"), os.Getenv("DARTSYNC_EXTERNAL_TOKEN_FILE")
	if addr == "" || tokFile == "" {
		t.Skip("set DARTSYNC_EXTERNAL_TRACKER and DARTSYNC_EXTERNAL_TOKEN_FILE to drive an external tracker")
	}
	b, err := os.ReadFile(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseToken(string(b))
	if err != nil {
		t.Fatal(err)
	}
	// one client: join, report a file, see it pushed back
	c := startClient(t, addr, tok, nil)
	info := c.registered(t)
	t.Logf("registered: interval %v, piece size %d, seq %d, new member %v", info.Interval, info.PieceSize, info.Seq, info.NewMember)
	f := testFile("pi-check/hello.txt", "hello from "+t.Name()+" at "+time.Now().String(), t0, manifest.ID{})
	rs := c.update(t, f)
	if rs[0].Outcome != Accepted {
		t.Fatalf("update: %v %v", rs[0].Outcome, rs[0].Err)
	}
	c.rec.wait(t, "the update pushed back", func(r *recorder) bool {
		e, ok := r.entry(f.Path)
		return ok && e.Manifest.ID == f.ID && ownedBy(e, c.id.ID)
	})
	t.Logf("update accepted with seq %d and pushed back", rs[0].Seq)

	files, _ := strconv.Atoi(os.Getenv("DARTSYNC_LOAD_FILES"))
	if files <= 0 {
		return
	}
	const peers = 16
	lp, err := startLoadPeers(addr, tok, peers)
	if err != nil {
		t.Fatal(err)
	}
	defer lp.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	seq, err := lp.report(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.drain(ctx, seq); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files x %d peers registered and pushed in %v (seq %d)", files, peers, time.Since(start).Round(time.Millisecond), seq)
	if pid := os.Getenv("DARTSYNC_TRACKER_PID"); pid != "" {
		st, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "RssFile") || strings.HasPrefix(l, "VmHWM") {
				t.Log(strings.Join(strings.Fields(l), " "))
				fmt.Println("tracker", strings.Join(strings.Fields(l), " "))
			}
		}
	}
}
