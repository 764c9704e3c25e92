package tracker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// TestEpochClassify: which registrations resume and which re-announce, over
// a clean restart, a crash and a restore from a copy of the state.
func TestEpochClassify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, StateFile)
	backup := filepath.Join(dir, "backup.db")
	open := func() *store {
		t.Helper()
		s, err := openStore(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	n := uint32(0)
	bump := func(s *store, k int) { // k committed changes
		t.Helper()
		if n == 0 {
			var err error
			if n, _, err = s.addMember(newTestIdentity(t).ID); err != nil {
				t.Fatal(err)
			}
		}
		for i := range k {
			if _, err := s.apply("", n, reports(testFile("f", time.Now().String()+string(rune('a'+i)), t0, manifest.Hash([]byte("any"))))); err != nil {
				t.Fatal(err)
			}
		}
	}
	type reg struct {
		name  string
		epoch Epoch
		seq   uint64
		heard uint64 // 0: not told (an older peer)
		want  resumeMode
	}
	check := func(s *store, regs ...reg) {
		t.Helper()
		for _, r := range regs {
			got, why, err := s.classify(r.epoch, r.seq, r.heard)
			if err != nil {
				t.Fatal(err)
			}
			if got != r.want {
				t.Errorf("%s (epoch %s, seq %d, heard %d): mode %d (%s), want %d", r.name, r.epoch, r.seq, r.heard, got, why, r.want)
			}
		}
	}

	s := open()
	e1 := s.currentEpoch()
	if e1.IsZero() || !s.started.fresh || !s.started.prev.IsZero() {
		t.Fatalf("first start: epoch %s, %+v", e1, s.started)
	}
	bump(s, 3)
	check(s,
		reg{"no epoch", Epoch{}, 0, 0, modeReannounce},
		reg{"current epoch", e1, 3, 3, modeResume},
		reg{"current epoch, behind", e1, 1, 1, modeResume},
		reg{"current epoch, ahead", e1, 4, 4, modeRollback},
		reg{"current epoch, heard of a result ahead", e1, 2, 4, modeRollback},
		reg{"unknown epoch", Epoch{1}, 0, 0, modeReannounce},
	)
	if err := s.close(endEpoch); err != nil { // clean shutdown: e1 ends at 3
		t.Fatal(err)
	}

	s = open()
	e2 := s.currentEpoch()
	if e2 == e1 || s.started.prev != e1 || !s.started.prevClosed || s.started.fresh {
		t.Fatalf("after a clean restart: epoch %s, %+v", e2, s.started)
	}
	check(s,
		reg{"ended epoch, within", e1, 3, 3, modeResume},
		reg{"ended epoch, ahead of its end", e1, 4, 4, modeReannounce},
		reg{"new epoch", e2, 3, 3, modeResume},
	)
	bump(s, 2)
	if err := s.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(backup, 0o600) }); err != nil { // a backup of the running tracker
		t.Fatal(err)
	}
	bump(s, 2)
	if err := s.close(leaveEpochOpen); err != nil { // a crash: e2 never ends
		t.Fatal(err)
	}

	s = open()
	e3 := s.currentEpoch()
	if s.started.prev != e2 || s.started.prevClosed {
		t.Fatalf("after a crash: %+v", s.started)
	}
	check(s,
		// The state holds e2 up to 7: commits are durable before anyone
		// hears of them.
		reg{"crashed epoch, within the state", e2, 7, 7, modeResume},
		reg{"crashed epoch, behind", e2, 4, 6, modeResume},
		reg{"crashed epoch, heard of more than the state holds", e2, 7, 8, modeReannounce},
		reg{"crashed epoch, an older peer that does not say what it heard", e2, 7, 0, modeReannounce},
		reg{"epoch before the crash", e1, 3, 3, modeResume},
	)
	bump(s, 1)
	if err := s.close(endEpoch); err != nil {
		t.Fatal(err)
	}
	s = open() // the crashed epoch's recorded end outlives the next run
	check(s,
		reg{"crashed epoch, two starts later", e2, 7, 7, modeResume},
		reg{"crashed epoch, two starts later, beyond", e2, 7, 8, modeReannounce},
	)
	if err := s.close(endEpoch); err != nil {
		t.Fatal(err)
	}

	// restore the backup (taken while e2 ran) over the state
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.close(endEpoch)
	if s.started.prev != e2 || s.started.prevClosed || s.current() != 5 {
		t.Fatalf("restored: %+v seq %d", s.started, s.current())
	}
	check(s,
		reg{"epoch after the backup", e3, 8, 8, modeReannounce},
		reg{"epoch after the backup, low seq", e3, 1, 1, modeReannounce},
		// The copy holds e2 up to 5 (the same history as the live state
		// up to there); whoever heard of more re-announces.
		reg{"epoch the backup was taken in, within the copy", e2, 5, 5, modeResume},
		reg{"epoch the backup was taken in, an accepted report beyond the copy", e2, 5, 6, modeReannounce},
		reg{"epoch the backup was taken in, beyond the copy", e2, 7, 7, modeReannounce},
		reg{"epoch that ended before the backup", e1, 3, 3, modeResume},
	)
}

// TestReannounceHoldsPushes: a peer told to re-announce is sent no update
// until REANNOUNCE_DONE, then everything, its own re-announced version
// included; its re-announce is answered by the re-announce rules.
func TestReannounceHoldsPushes(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr, tok := srv.Addr().String(), srv.Token()
	a := startClient(t, addr, tok, nil)
	a.registered(t)
	v0 := testFile("doc", "v0", t0, manifest.ID{})
	v1 := testFile("doc", "v1", t0+1, v0.ID)
	a.update(t, v0, v1, testFile("other", "o", t0, manifest.ID{}))

	p := dialRaw(t, addr, tok, nil)
	reg := p.register(t, tok.Secret[:], 0)
	if !reg.Reannounce || len(reg.Epoch) != EpochSize {
		t.Fatalf("REGISTERED: reannounce %v, epoch %x", reg.Reannounce, reg.Epoch)
	}
	mine := testFile("mine", "only here", t0, manifest.ID{})
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{
		RequestId: 1, Reannounce: true,
		Changes:   []*manifestpb.Manifest{manifest.ToProto(&v0), manifest.ToProto(&mine)},
		Ancestors: []*trackerpb.Ancestors{{}, {}},
	}}})
	// An unheld session pushes what it missed at once: here, the RESULTS
	// must come before any UPDATES.
	var res *trackerpb.Results
	for res == nil {
		m := p.read(t)
		if m.GetUpdates() != nil {
			t.Fatalf("pushed before REANNOUNCE_DONE: %v", m)
		}
		res = m.GetResults()
	}
	if got := []trackerpb.Outcome{res.Results[0].Outcome, res.Results[1].Outcome}; got[0] != trackerpb.Outcome_OUTCOME_OUTDATED || got[1] != trackerpb.Outcome_OUTCOME_ACCEPTED {
		t.Fatalf("re-announce outcomes %v, want outdated, accepted", got)
	}
	if cur := res.Results[0].CurrentId; string(cur) != string(v1.ID[:]) {
		t.Fatalf("outdated result names %x as current, want v1", cur)
	}
	a.rec.wait(t, "a gets the re-announced file", func(r *recorder) bool { _, ok := r.entry("mine"); return ok })
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_ReannounceDone{ReannounceDone: &trackerpb.ReannounceDone{}}})
	got := map[string][]byte{}
	for len(got) < 3 {
		m := p.read(t)
		for _, e := range m.GetUpdates().GetEntries() {
			got[e.Manifest.Path] = e.Manifest.FileId
		}
	}
	if string(got["doc"]) != string(v1.ID[:]) || string(got["mine"]) != string(mine.ID[:]) || got["other"] == nil {
		t.Fatalf("after REANNOUNCE_DONE: %v", got)
	}
	// a second REANNOUNCE_DONE, or a re-announce after it, breaks the protocol
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_ReannounceDone{ReannounceDone: &trackerpb.ReannounceDone{}}})
	if e := p.readError(t); e.Code != trackerpb.ErrorCode_ERROR_PROTOCOL {
		t.Fatalf("second REANNOUNCE_DONE: %v", e)
	}
}

// TestResumeAfterCleanRestartNotAfterRestore: a client of a cleanly stopped
// tracker resumes; after the state is replaced by an older copy it is told
// to re-announce.
func TestResumeAfterCleanRestartNotAfterRestore(t *testing.T) {
	dir := t.TempDir()
	cfg := ServerConfig{StateDir: dir, Listen: "127.0.0.1:0", Interval: 100 * time.Millisecond, Log: testLog(t)}
	run := func() (*Server, func()) {
		t.Helper()
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		return srv, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	srv, stop := run()
	cfg.Listen = srv.Addr().String()
	tok := srv.Token()
	rec := newRecorder()
	a := startClient(t, cfg.Listen, tok, nil, withRecorder(rec), withResume(rec))
	first := a.registered(t)
	a.update(t, testFile("x", "x", t0, manifest.ID{}))
	a.rec.wait(t, "x pushed", func(r *recorder) bool { _, ok := r.entry("x"); return ok })
	stop()
	backup, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}

	srv, stop = run()
	a.rec.wait(t, "re-registration", func(r *recorder) bool { return len(r.regs) >= 2 })
	second := a.registered(t)
	if second.Reannounce || second.Epoch == first.Epoch {
		t.Fatalf("after a clean restart: reannounce %v, epoch %s (was %s)", second.Reannounce, second.Epoch, first.Epoch)
	}
	a.update(t, testFile("y", "y", t0, manifest.ID{})) // lost by the restore below
	a.rec.wait(t, "y pushed", func(r *recorder) bool { _, ok := r.entry("y"); return ok })
	stop()
	if err := os.WriteFile(filepath.Join(dir, StateFile), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stop = run()
	defer stop()
	a.rec.wait(t, "re-registration after the restore", func(r *recorder) bool { return len(r.regs) >= 3 })
	third := a.registered(t)
	if !third.Reannounce || third.Epoch == second.Epoch || third.Epoch == first.Epoch {
		t.Fatalf("after a restore: reannounce %v, epoch %s", third.Reannounce, third.Epoch)
	}
	a.stop(t)
}

// TestRollbackWhileRunningStartsNewEpoch: a peer of the current epoch that
// is ahead of the tracker's sequence number (its state went back while it
// ran) makes a new epoch; every other session is closed and re-announces.
func TestRollbackWhileRunningStartsNewEpoch(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr, tok := srv.Addr().String(), srv.Token()
	rec := newRecorder()
	a := startClient(t, addr, tok, nil, withRecorder(rec), withResume(rec))
	first := a.registered(t)
	a.update(t, testFile("x", "x", t0, manifest.ID{}))
	e := srv.store.currentEpoch()
	if first.Epoch != e {
		t.Fatalf("registered in %s, tracker in %s", first.Epoch, e)
	}

	p := dialRaw(t, addr, tok, nil)
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{
		Protocol: ProtocolVersion, ListenPort: 1, JoinSecret: tok.Secret[:], Epoch: e[:], LastSeq: srv.store.current() + 5}}})
	reg := p.read(t).GetRegistered()
	if reg == nil || !reg.Reannounce || string(reg.Epoch) == string(e[:]) {
		t.Fatalf("REGISTERED of the peer ahead: %v", reg)
	}
	a.rec.wait(t, "a registers again, to re-announce", func(r *recorder) bool {
		last := r.regs[len(r.regs)-1]
		return len(r.regs) >= 2 && last.Reannounce && string(last.Epoch[:]) == string(reg.Epoch)
	})
}

// TestReannounceBoundToRegistration: a client with a Registering hook
// re-announces on the registration that asked for it; once that connection
// is replaced, its re-announce calls fail with ErrNotConnected instead of
// reaching the next registration (which asks for its own re-announce).
func TestReannounceBoundToRegistration(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(ServerConfig{StateDir: dir, Listen: "127.0.0.1:0", Interval: 100 * time.Millisecond, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr, tok := srv.Addr().String(), srv.Token()
	sctx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(sctx) }()
	infos := make(chan RegisterInfo, 4)
	c := startClient(t, addr, tok, nil, func(cfg *ClientConfig) {
		cfg.Registering = func(i RegisterInfo) error { infos <- i; return nil }
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	first := <-infos
	if !first.Reannounce || first.Conn != 1 {
		t.Fatalf("first registration: %+v", first)
	}
	v := testFile("v", "v", t0, manifest.ID{})
	rs, err := c.Reannounce(ctx, first.Conn, []Change{{New: v, Ancestors: []manifest.ID{manifest.Hash([]byte("older"))}}})
	if err != nil || rs[0].Outcome != Accepted {
		t.Fatalf("re-announce: %v %v", rs, err)
	}
	if rs, err := c.UpdateOn(ctx, first.Conn, []Change{{New: testFile("w", "w", t0, manifest.ID{})}}); err != nil || rs[0].Outcome != Accepted {
		t.Fatalf("local change during the re-announce: %v %v", rs, err)
	}
	stopServer() // a clean restart: the client registers again
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	srv2 := startServer(t, dir, ServerConfig{Listen: addr})
	second := <-infos
	if second.Conn != 2 || !second.Reannounce || second.Epoch != srv2.store.currentEpoch() {
		t.Fatalf("second registration: %+v (the client kept no epoch: it re-announces again)", second)
	}
	if _, err := c.Reannounce(ctx, first.Conn, []Change{{New: v}}); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("re-announce on an ended registration: %v, want ErrNotConnected", err)
	}
	if err := c.ReannounceDone(ctx, first.Conn); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("REANNOUNCE_DONE on an ended registration: %v, want ErrNotConnected", err)
	}
	if err := c.ReannounceDone(ctx, second.Conn); err != nil {
		t.Fatal(err)
	}
	c.rec.wait(t, "everything after REANNOUNCE_DONE", func(r *recorder) bool {
		_, ok1 := r.entry("v")
		_, ok2 := r.entry("w")
		return ok1 && ok2
	})
}
