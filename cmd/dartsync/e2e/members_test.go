package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
)

// TestRemovedMember: real processes. A member removed with `dartsync
// tracker members remove` while everything runs: its peer process is
// stopped by the tracker; another peer closes the connection it held and
// refuses it every piece; restarted with the token it joined with, it is
// refused by the tracker; the honest peers keep syncing. `members list`
// prints one line per member starting with its full device ID. After
// `token --rotate` the old token admits no new device and the new one does.
// The tracker's log (at debug level) never holds a secret and says how to
// join with --token-file; a peer given --token on the command line warns
// that other local users can see it.
func TestRemovedMember(t *testing.T) {
	c := newCluster(t, 0)
	c.tracker.stop() // again, logging everything: no secret even at debug level
	c.tracker.args = append(c.tracker.args, "--log-level", "debug")
	c.restartTracker()
	p1, p2 := c.addPeer("peer1"), c.addPeer("peer2")
	tokenFile := filepath.Join(c.base, "token for R")
	if err := os.WriteFile(tokenFile, []byte(c.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &peerProc{name: "removed", dir: filepath.Join(c.base, "removed", "folder"), state: filepath.Join(c.base, "removed", "state"), port: freePort(t)}
	join := []string{"--tracker", c.addr, "--token-file", tokenFile}
	c.peers = append(c.peers, r)
	c.startPeer(r, false, join...)
	if strings.Contains(lastRun(t, r), "visible to other local users") {
		t.Error("a peer given --token-file warns about --token")
	}
	if !strings.Contains(lastRun(t, p2), "visible to other local users") {
		t.Error("a peer given --token on the command line does not warn that others can see it")
	}

	data := randomBytes(t, 3*pieceSize+7)
	writeFile(t, p1.dir, "a.bin", data, 0o644)
	want := tree{"a.bin": fileEntry(data, false)}
	c.waitAll("a.bin everywhere", want)

	rID := loadIdentity(t, r.state)
	dev := rID.ID.String()
	list := c.admin("members", "list")
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 3 || !strings.HasPrefix(grepLines(list, dev), dev) {
		t.Fatalf("members list: want 3 lines, one starting with %s:\n%s", dev, list)
	}

	// as R, from p1: served while a member, over a connection R's fetcher keeps
	ctx, cancel := context.WithTimeout(context.Background(), syncWait)
	defer cancel()
	m, err := manifest.BuildBytes(ctx, data, pieceSize)
	if err != nil {
		t.Fatal(err)
	}
	p1Src := transfer.Source{ID: deviceIn(t, p1.state), Addr: fmt.Sprintf("127.0.0.1:%d", p1.port)}
	held := transfer.NewFetcher(rID, transfer.FetchOptions{}, slog.New(slog.DiscardHandler))
	defer held.Close()
	if err := fetchFrom(ctx, held, &m, p1Src); err != nil {
		t.Fatalf("R fetching from p1 while a member: %v", err)
	}

	c.admin("members", "remove", dev)
	if err, exited := r.p.waitExit(30 * time.Second); !exited || err == nil || !strings.Contains(lastRun(t, r), "removed") {
		t.Fatalf("removed peer: exited=%v err=%v, want an error exit saying it was removed", exited, err)
	}
	eventually(t, syncWait, "p1 closing R's connection", func() (bool, string) {
		return strings.Contains(lastRun(t, p1), "closing connection: the device is no longer a peer"), "not yet"
	})
	for name, f := range map[string]*transfer.Fetcher{"the connection it held": held, "a new connection": nil} {
		if f == nil {
			f = transfer.NewFetcher(rID, transfer.FetchOptions{}, slog.New(slog.DiscardHandler))
			defer f.Close()
		}
		if err := fetchFrom(ctx, f, &m, p1Src); !errors.Is(err, transfer.ErrForbidden) {
			t.Errorf("removed R fetching from p1 over %s: %v, want ErrForbidden", name, err)
		}
	}

	// restarted with the token it joined with: refused
	c.launchPeer(r, false, join...)
	if err, exited := r.p.waitExit(30 * time.Second); !exited || err == nil || !strings.Contains(lastRun(t, r), "was removed") {
		t.Fatalf("removed peer restarted with its token: exited=%v err=%v, want an error exit saying it was removed", exited, err)
	}
	if out := c.admin("members", "list"); strings.Contains(out, dev) {
		t.Fatalf("removed member still listed:\n%s", out)
	}

	// the honest peers go on
	c.peers = c.peers[:2]
	more := randomBytes(t, 2*pieceSize)
	writeFile(t, p2.dir, "b.bin", more, 0o644)
	want["b.bin"] = fileEntry(more, false)
	c.waitAll("b.bin on the honest peers", want)

	// rotation: the old token admits no new device; a new one joins with the new token
	old := c.token
	rotated := strings.TrimSpace(c.admin("token", "--rotate"))
	if _, err := tracker.ParseToken(rotated); err != nil || rotated == old {
		t.Fatalf("token --rotate printed %q (%v)", rotated, err)
	}
	c.readToken()
	if c.token != rotated {
		t.Fatalf("join.token holds %q after the rotation, want %q", c.token, rotated)
	}
	late := &peerProc{name: "late-old-token", dir: filepath.Join(c.base, "late", "folder"), state: filepath.Join(c.base, "late", "state"), port: freePort(t)}
	c.token = old
	c.launchPeer(late, true)
	if err, exited := late.p.waitExit(30 * time.Second); !exited || err == nil || !strings.Contains(lastRun(t, late), "replaced") {
		t.Fatalf("a new device with the rotated-out token: exited=%v err=%v, want an error exit", exited, err)
	}
	c.token = rotated
	fresh := c.addPeer("fresh")
	c.waitAll("everything on the device joined with the new token", want, fresh)
	c.stopAll()

	// no secret in the tracker's log; it names the token file instead
	tlog, err := os.ReadFile(filepath.Join(c.base, "tracker.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{old, rotated} {
		sec := tok[strings.Index(tok, ":")+1:]
		if strings.Contains(strings.ToUpper(string(tlog)), strings.ToUpper(sec)) {
			t.Errorf("the tracker's log holds the secret of %s", tok)
		}
	}
	if !strings.Contains(string(tlog), "--token-file join.token") || !strings.Contains(string(tlog), filepath.Join(c.trackerState(), "join.token")) {
		t.Error("the tracker's log does not say how to join with --token-file and where the token file is")
	}
}

// fetchFrom fetches m's pieces from src alone, keeping none; the error is
// why src was dropped, if it was.
func fetchFrom(ctx context.Context, f *transfer.Fetcher, m *manifest.Manifest, src transfer.Source) error {
	sink := &discardSink{n: len(m.Pieces)}
	st, err := f.Fetch(ctx, m, sink, []transfer.Source{src})
	if err != nil && len(st.Sources) > 0 && st.Sources[0].Dropped != nil {
		return st.Sources[0].Dropped
	}
	return err
}
