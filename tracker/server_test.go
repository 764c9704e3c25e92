package tracker

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

func TestRegisterPeersAndUpdateReachesEveryPeer(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{PieceSize: 64 << 10})
	addr := srv.Addr().String()
	a := startClient(t, addr, srv.Token(), nil)
	infoA := a.registered(t)
	if infoA.PieceSize != 64<<10 || infoA.Interval != 100*time.Millisecond || !infoA.NewMember || len(infoA.Peers) != 0 {
		t.Fatalf("RegisterInfo %+v", infoA)
	}
	b := startClient(t, addr, srv.Token(), nil)
	c := startClient(t, addr, srv.Token(), nil)
	infoC := c.registered(t)
	b.registered(t)
	a.rec.wait(t, "A sees B and C", func(r *recorder) bool {
		ps := r.currentPeers()
		return len(ps) == 2 && hasPeer(ps, b.id.ID) && hasPeer(ps, c.id.ID)
	})
	if hasPeer(infoC.Peers, c.id.ID) {
		t.Error("peer list includes the receiver")
	}
	for _, p := range infoC.Peers {
		if p.Addr != "127.0.0.1:4242" {
			t.Errorf("peer address %q, want observed IP + advertised port", p.Addr)
		}
	}

	v1 := testFile("docs/report.txt", "the first version", t0, manifest.ID{})
	rs := a.update(t, v1)
	if rs[0].Outcome != Accepted || rs[0].Seq == 0 || rs[0].CurrentID != v1.ID {
		t.Fatalf("result %+v", rs[0])
	}
	for _, tc := range []*testClient{a, b, c} {
		tc.rec.wait(t, "entry owned by A", func(r *recorder) bool {
			e, ok := r.entry(v1.Path)
			return ok && e.Manifest.ID == v1.ID && e.Seq == rs[0].Seq && ownedBy(e, a.id.ID)
		})
	}
	rs = b.update(t, v1)
	if rs[0].Outcome != Owner {
		t.Fatalf("second report: %v", rs[0].Outcome)
	}
	for _, tc := range []*testClient{a, b, c} {
		tc.rec.wait(t, "entry owned by A and B", func(r *recorder) bool {
			e, ok := r.entry(v1.Path)
			return ok && ownedBy(e, a.id.ID, b.id.ID)
		})
	}
	// a rejected change reaches nobody and says why
	rs = c.update(t, manifest.NewTombstone("nope", manifest.KindFile, v1.ID, t0))
	if rs[0].Outcome != Rejected || rs[0].Err == nil {
		t.Fatalf("tombstone of unknown path: %+v", rs[0])
	}
	// an invalid manifest is rejected, the batch's valid changes are applied
	bad := testFile("bad", "x", t0, manifest.ID{})
	bad.ID[0] ^= 1
	rs = c.update(t, bad, testFile("good", "y", t0, manifest.ID{}))
	if rs[0].Outcome != Rejected || rs[1].Outcome != Accepted {
		t.Fatalf("mixed batch: %v %v (%v)", rs[0].Outcome, rs[1].Outcome, rs[0].Err)
	}
}

func TestKeepAliveExpiryDropsPeerAndTellsOthers(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{Interval: 50 * time.Millisecond, PeerTimeout: 400 * time.Millisecond})
	addr := srv.Addr().String()
	a := startClient(t, addr, srv.Token(), nil)
	a.registered(t)
	silent := dialRaw(t, addr, srv.Token(), nil)
	silent.register(t, secretOf(srv), 0)
	a.rec.wait(t, "A sees the silent peer", func(r *recorder) bool { return hasPeer(r.currentPeers(), silent.id.ID) })
	// the silent peer sends nothing: it is dropped and told why
	m := silent.read(t)
	for m.GetPeers() != nil { // the fresh list a session is sent once live
		m = silent.read(t)
	}
	if e := m.GetError(); e == nil || e.Code.String() != "ERROR_TIMEOUT" {
		t.Fatalf("silent peer got %v, want a timeout ERROR", m)
	}
	a.rec.wait(t, "A is told the silent peer left", func(r *recorder) bool {
		return len(r.peers) > 0 && !hasPeer(r.currentPeers(), silent.id.ID)
	})
	// A itself keeps alive and stays registered
	b := startClient(t, addr, srv.Token(), nil)
	if !hasPeer(b.registered(t).Peers, a.id.ID) {
		t.Fatal("live peer A dropped")
	}
}

func TestReconnectResumesFromLastSeq(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	a := startClient(t, addr, srv.Token(), nil)
	a.registered(t)
	f1 := testFile("one", "1", t0, manifest.ID{})
	f2 := testFile("two", "2", t0, manifest.ID{})
	a.update(t, f1, f2)

	idB := newTestIdentity(t)
	b := startClient(t, addr, srv.Token(), idB)
	b.rec.wait(t, "B gets both files", func(r *recorder) bool {
		_, ok1 := r.entry("one")
		_, ok2 := r.entry("two")
		return ok1 && ok2
	})
	last, epoch := b.rec.lastSeq(), b.rec.epoch()
	b.stop(t)

	// while B is away: a new version of one, a new file, a deletion
	f1b := testFile("one", "1b", t0+1, f1.ID)
	f3 := testFile("three", "3", t0, manifest.ID{})
	del2 := manifest.NewTombstone("two", manifest.KindFile, f2.ID, t0+2)
	a.update(t, f1b, f3, del2)
	f1c := testFile("one", "1c", t0+3, f1b.ID) // "one" changes twice: sent once
	a.update(t, f1c)

	b2 := startClient(t, addr, srv.Token(), idB, withSecret(nil), withLastSeq(func() uint64 { return last }), withLastEpoch(epoch))
	info := b2.registered(t)
	if info.NewMember {
		t.Error("known member re-joined")
	}
	b2.rec.wait(t, "B gets the three changed paths", func(r *recorder) bool { return len(r.entries) >= 3 })
	b2.rec.mu.Lock()
	got := map[string]Entry{}
	for _, e := range b2.rec.entries {
		if e.Seq <= last {
			t.Errorf("resent %q seq %d <= last %d", e.Manifest.Path, e.Seq, last)
		}
		if _, dup := got[e.Manifest.Path]; dup {
			t.Errorf("%q sent twice", e.Manifest.Path)
		}
		got[e.Manifest.Path] = e
	}
	b2.rec.mu.Unlock()
	if len(got) != 3 || got["one"].Manifest.ID != f1c.ID || got["three"].Manifest.ID != f3.ID || !got["two"].Manifest.Deleted {
		t.Fatalf("resumed entries: %v", got)
	}
	if info.Seq != srv.store.current() {
		t.Errorf("Registered.Seq %d, tracker at %d", info.Seq, srv.store.current())
	}
}

func TestRefusedDevicesGetClearErrorsAndOthersAreServed(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	tok := srv.Token()
	good := startClient(t, addr, tok, nil)
	good.registered(t)

	wrong := tok
	wrong.Secret[0] ^= 0xff
	tests := []struct {
		name    string
		opts    []clientOpt
		tok     Token
		wantErr error
	}{
		{"wrong token", nil, wrong, ErrWrongToken},
		{"unknown certificate without token", []clientOpt{withSecret(nil)}, tok, ErrNotMember},
		{"tracker with another identity", []clientOpt{withTracker(newTestIdentity(t).ID)}, tok, ErrTrackerIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startClient(t, addr, tt.tok, nil, tt.opts...)
			err := c.runErr(t)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run = %v, want %v", err, tt.wantErr)
			}
			if len(c.rec.regs) != 0 {
				t.Fatal("refused device was registered")
			}
		})
	}
	// a wrong secret from a member is refused too (the token is checked whenever presented)
	member := startClient(t, addr, wrong, good.id)
	if err := member.runErr(t); !errors.Is(err, ErrWrongToken) {
		t.Fatalf("member with wrong token: %v", err)
	}
	// the tracker kept serving
	rs := good.update(t, testFile("still", "served", t0, manifest.ID{}))
	if rs[0].Outcome != Accepted {
		t.Fatal(rs[0])
	}
}

func TestTokenFileWritten(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, ServerConfig{})
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, TokenFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("join.token mode %v", fi.Mode().Perm())
	}
	if !bytes.Equal(b, []byte(srv.Token().String()+"\n")) {
		t.Fatalf("join.token %q", b)
	}
	tok, err := ParseToken(string(b))
	if err != nil || tok.Tracker != srv.ID() {
		t.Fatal(tok, err)
	}
}

func TestClientRunReturnsOnCancelWithoutTracker(t *testing.T) {
	// nothing listens here: Run keeps retrying until cancelled
	tok := Token{Tracker: newTestIdentity(t).ID}
	c := startClient(t, "127.0.0.1:9", tok, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Update(ctx, []Change{{New: testFile("x", "x", t0, manifest.ID{})}}); err == nil {
		t.Fatal("Update without a tracker succeeded")
	}
	c.stop(t)
}

func TestClientReconnectsAfterTrackerRestartAndResumes(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(ServerConfig{StateDir: dir, Listen: "127.0.0.1:0", Interval: 100 * time.Millisecond, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tok := srv.Token()

	rec := newRecorder()
	a := startClient(t, addr, tok, nil, withRecorder(rec), withResume(rec))
	a.registered(t)
	f1 := testFile("before", "restart", t0, manifest.ID{})
	a.update(t, f1)
	a.rec.wait(t, "f1 pushed", func(r *recorder) bool { _, ok := r.entry("before"); return ok })

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	srv2 := startServer(t, dir, ServerConfig{Listen: addr})
	a.rec.wait(t, "re-registration", func(r *recorder) bool { return len(r.regs) >= 2 })
	b := startClient(t, addr, tok, nil)
	b.registered(t)
	f2 := testFile("after", "restart", t0, manifest.ID{})
	b.update(t, f2)
	a.rec.wait(t, "f2 pushed after reconnect", func(r *recorder) bool { _, ok := r.entry("after"); return ok })
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	n := 0
	for _, e := range a.rec.entries {
		if e.Manifest.Path == "before" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("f1 pushed %d times; a resumed client must not get it again", n)
	}
	if got := a.rec.regs[len(a.rec.regs)-1].Seq; got < 1 || srv2.ID() != srv.ID() {
		t.Errorf("after restart: seq %d", got)
	}
}
