package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/tracker"
)

// TestSharedFoldersAcceptance is issue 14's acceptance for folders shared
// with chosen devices: two folders (work, photos) on three peers; A and B
// joined with the tracker's token and sync both, C joined with a token
// limited to photos (`dartsync tracker token --folders photos`) and syncs
// photos only. No file, name or piece crosses folders:
//   - on disk: C's folder and state hold photos' files and nothing of work
//     (no name, no content, no piece file);
//   - on the wire, with C's identity: the tracker refuses it work, and on
//     photos pushes no entry of work; A's piece server refuses it a piece of
//     work, which it serves to B, and does not hand it out as photos'.
func TestSharedFoldersAcceptance(t *testing.T) {
	c := newCluster(t, 0)
	base := c.base
	limited := strings.TrimSpace(c.admin("token", "--folders", "photos", "--expires", "1h"))

	type device struct {
		*folderPeer
		state string
		port  int
	}
	run := func(name, token string, folders ...string) *device {
		d := &device{folderPeer: &folderPeer{name: name, dirs: map[string]string{}, states: map[string]string{}},
			state: filepath.Join(base, name, "state"), port: freePort(t)}
		args := []string{"peer", "--state", d.state, "--tracker", c.addr, "--token", token}
		for _, f := range folders {
			d.dirs[f] = filepath.Join(base, name, f)
			d.states[f] = filepath.Join(d.state, "folders", f)
			args = append(args, "--dir", f+"="+d.dirs[f])
		}
		d.p = start(t, base, name, append(args, peerFlags(d.port)...)...)
		d.waitScanned(t)
		return d
	}
	a := run("A", c.token, "work", "photos")
	b := run("B", c.token, "work", "photos")
	cc := run("C", limited, "photos")

	secretName := "quarterly-plan-" + hex.EncodeToString(randomBytes(t, 6)) + ".txt"
	secret := append([]byte("WORK ONLY "), randomBytes(t, 3*pieceSize+99)...)
	writeFile(t, a.dirs["work"], "plans/"+secretName, secret, 0o644)
	holiday := randomBytes(t, 2*pieceSize+5)
	writeFile(t, a.dirs["photos"], "holiday.jpg", holiday, 0o644)
	fromC := randomBytes(t, pieceSize/2)
	writeFile(t, cc.dirs["photos"], "from C.jpg", fromC, 0o644)
	fromB := []byte("B's work, also not for C\n")
	writeFile(t, b.dirs["work"], "from B.txt", fromB, 0o644)

	wantWork := tree{"plans": "dir", "plans/" + secretName: fileEntry(secret, false), "from B.txt": fileEntry(fromB, false)}
	wantPhotos := tree{"holiday.jpg": fileEntry(holiday, false), "from C.jpg": fileEntry(fromC, false)}
	for _, d := range []*device{a, b} {
		waitTree(t, "work on "+d.name, d.dirs["work"], wantWork)
	}
	for _, d := range []*device{a, b, cc} {
		waitTree(t, "photos on "+d.name, d.dirs["photos"], wantPhotos)
	}
	if out := c.admin("members"); !strings.Contains(grepLines(out, deviceIn(t, cc.state).String()), "photos") {
		t.Errorf("tracker members does not show C with photos only:\n%s", out)
	}

	// On disk: nothing of work anywhere under C (folder and state).
	workM, err := manifest.BuildBytes(context.Background(), secret, pieceSize)
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{[]byte(secretName), []byte("from B.txt"), secret[:64], fromB}
	for _, pc := range workM.Pieces {
		needles = append(needles, []byte(hex.EncodeToString(pc.Hash[:])), pc.Hash[:])
	}
	cc.p.stop() // its files are complete and closed; the wire checks below use its identity
	if found := grepTree(t, filepath.Join(base, "C"), needles); found != "" {
		t.Errorf("C's disk holds something of work: %s", found)
	}

	// On the wire, as C.
	cID := loadIdentity(t, cc.state)
	tok, err := tracker.ParseToken(limited)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), syncWait)
	defer cancel()
	refused := tracker.NewClient(tracker.ClientConfig{Addr: c.addr, Identity: cID, Tracker: tok.Tracker, Folder: "work", Handler: &pushes{}})
	if err := refused.Run(ctx); !errors.Is(err, tracker.ErrFolderNotShared) {
		t.Fatalf("C registering work: %v, want ErrFolderNotShared", err)
	}
	seen := &pushes{}
	photos := tracker.NewClient(tracker.ClientConfig{Addr: c.addr, Identity: cID, Tracker: tok.Tracker, Folder: "photos",
		ListenPort: cc.port, Handler: seen})
	pctx, stopPhotos := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = photos.Run(pctx) })
	defer func() { stopPhotos(); wg.Wait() }()
	eventually(t, syncWait, "photos' entries pushed to C's identity", func() (bool, string) {
		return seen.has("holiday.jpg") && seen.has("from C.jpg"), "not yet"
	})
	seen.mu.Lock()
	for _, e := range seen.entries {
		if e.Manifest.ID == workM.ID || strings.Contains(e.Manifest.Path, "plan") || e.Manifest.Path == "from B.txt" {
			t.Errorf("C was pushed work's entry %q", e.Manifest.Path)
		}
	}
	seen.mu.Unlock()

	// A's piece server: a work piece for B; for C, neither as work nor as photos.
	aAddr, aID := fmt.Sprintf("127.0.0.1:%d", a.port), deviceIn(t, a.state)
	var got int // pieces the last fetch received
	fetch := func(as *identity.Identity, folder string, m manifest.Manifest) error {
		f := transfer.NewFetcher(as, transfer.FetchOptions{}, slog.New(slog.DiscardHandler))
		defer f.Close()
		sink := &discardSink{n: len(m.Pieces)}
		st, err := f.Fetch(ctx, &m, sink, []transfer.Source{{ID: aID, Addr: aAddr, Folder: folder}})
		got = len(m.Pieces) - len(sink.Missing())
		if err != nil && st.Sources[0].Dropped != nil {
			return st.Sources[0].Dropped
		}
		return err
	}
	if err := fetch(loadIdentity(t, b.state), "work", workM); err != nil {
		t.Fatalf("B fetching work's file from A: %v", err)
	}
	if err := fetch(cID, "work", workM); !errors.Is(err, transfer.ErrForbidden) || got != 0 {
		t.Fatalf("C fetching work's file from A as work: %v, %d pieces; want ErrForbidden, none", err, got)
	}
	holidayM, err := manifest.BuildBytes(context.Background(), holiday, pieceSize)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, syncWait, "A serving photos to C's identity", func() (bool, string) {
		err := fetch(cID, "photos", holidayM)
		return err == nil, fmt.Sprint(err)
	})
	if err := fetch(cID, "photos", workM); err == nil || got != 0 {
		t.Fatalf("C fetching work's file from A as photos: %v, %d pieces; want an error, none", err, got)
	}

	for _, d := range []*device{a, b} {
		d.p.stop()
	}
	c.tracker.stop()
}

// grepTree returns the first file under root whose name or content holds
// one of needles ("" if none).
func grepTree(t *testing.T, root string, needles [][]byte) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" {
			return err
		}
		for _, n := range needles {
			if bytes.Contains([]byte(d.Name()), n) {
				found = p + " (name)"
				return nil
			}
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				found = fmt.Sprintf("%s holds %q", p, n[:min(len(n), 24)])
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func loadIdentity(t *testing.T, dir string) *identity.Identity {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil {
		t.Fatalf("no identity in %s: %v", dir, err)
	}
	id, err := identity.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func deviceIn(t *testing.T, dir string) identity.DeviceID { return loadIdentity(t, dir).ID }

// pushes is a tracker.Handler keeping the entries pushed to it.
type pushes struct {
	mu      sync.Mutex
	entries []tracker.Entry
}

func (p *pushes) Registered(tracker.RegisterInfo) {}
func (p *pushes) PeersChanged([]tracker.PeerInfo) {}
func (p *pushes) Updates(es []tracker.Entry) {
	p.mu.Lock()
	p.entries = append(p.entries, es...)
	p.mu.Unlock()
}

func (p *pushes) has(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.entries, func(e tracker.Entry) bool { return e.Manifest.Path == path })
}

// discardSink takes every piece and keeps none.
type discardSink struct {
	mu   sync.Mutex
	n    int
	done map[int]bool
}

func (s *discardSink) Missing() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range s.n {
		if !s.done[i] {
			out = append(out, i)
		}
	}
	return out
}

func (s *discardSink) WritePiece(i int, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[int]bool{}
	}
	s.done[i] = true
	return nil
}
