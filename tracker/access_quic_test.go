package tracker

import (
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/tracker/admin"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

func withFolder(f string) clientOpt { return func(c *ClientConfig) { c.Folder = f } }

// registerFolder sends REGISTER for folder and returns the answer (REGISTERED or ERROR).
func (p *rawPeer) registerFolder(t testing.TB, folder string, secret []byte) *trackerpb.TrackerMsg {
	t.Helper()
	p.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_Register{Register: &trackerpb.Register{
		Protocol: ProtocolVersion, ListenPort: 1, Folder: folder, JoinSecret: secret}}})
	return p.read(t)
}

func testAdmin(srv *Server) *adminService {
	return &adminService{st: srv.store, devices: srv.devices, tracker: srv.ID(), srv: srv}
}

// issue returns a token of srv granting folders.
func issue(t testing.TB, srv *Server, folders ...string) Token {
	t.Helper()
	at, err := testAdmin(srv).IssueToken(t.Context(), folders, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseToken(at.Token)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLimitedMemberSeesOnlyItsFolder: a device that joined with a token for
// "photos" is refused "work" (ERROR_FOLDER_NOT_SHARED), and on "photos" it
// learns only photos' entries, owners and peers.
func TestLimitedMemberSeesOnlyItsFolder(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr, own := srv.Addr().String(), srv.Token()
	full := newTestIdentity(t)
	fPhotos := startClient(t, addr, own, full, withFolder("photos"))
	fWork := startClient(t, addr, own, full, withFolder("work"))
	fPhotos.registered(t)
	fWork.registered(t)
	fPhotos.update(t, testFile("p.txt", "photo", t0, [32]byte{}), testFile("same.txt", "photos' same", t0, [32]byte{}))
	workSame := testFile("same.txt", "work's same", t0, [32]byte{})
	fWork.update(t, testFile("w.txt", "work", t0, [32]byte{}), workSame)
	other := newTestIdentity(t) // a full member on work only
	oWork := startClient(t, addr, own, other, withFolder("work"))
	oWork.registered(t)

	limTok := issue(t, srv, "photos")
	lim := newTestIdentity(t)
	raw := dialRaw(t, addr, limTok, lim)
	m := raw.registerFolder(t, "work", limTok.Secret[:])
	if e := m.GetError(); e == nil || e.Code != trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED {
		t.Fatalf("limited device registering work: got %v, want ERROR_FOLDER_NOT_SHARED", m)
	}
	if g := srv.store.acl().grantOf(lim.ID); g.All || !slices.Equal(g.Folders, []string{"photos"}) {
		t.Fatalf("the limited device's grant is %+v, want photos", g)
	}

	lPhotos := startClient(t, addr, limTok, lim, withFolder("photos"))
	lPhotos.registered(t)
	lPhotos.rec.wait(t, "photos' entries", func(r *recorder) bool {
		_, p := r.entry("p.txt")
		_, s := r.entry("same.txt")
		return p && s
	})
	lPhotos.rec.wait(t, "the photos peer list", func(r *recorder) bool { return hasPeer(r.currentPeers(), full.ID) })
	// a later change of work and a conflict in work, then a change of photos:
	// the photos one arrives, nothing of work ever does
	fWork.update(t, testFile("w2.txt", "work later", t0, [32]byte{}))
	fWork.update(t, testFile("c.txt", "one edit", t0, [32]byte{}))
	if rs := oWork.update(t, testFile("c.txt", "a concurrent edit", t0+1, [32]byte{})); rs[0].Outcome != Conflict {
		t.Fatalf("concurrent edit in work: %v, want a conflict", rs[0].Outcome)
	}
	fPhotos.update(t, testFile("p2.txt", "photo later", t0, [32]byte{}))
	lPhotos.rec.wait(t, "the later photo", func(r *recorder) bool { _, ok := r.entry("p2.txt"); return ok })
	lPhotos.rec.mu.Lock()
	for _, e := range lPhotos.rec.entries {
		if e.Manifest.Path == "w.txt" || e.Manifest.Path == "w2.txt" || e.Manifest.ID == workSame.ID ||
			strings.HasPrefix(e.Manifest.Path, "c.") {
			t.Errorf("the limited device received work's entry %q", e.Manifest.Path)
		}
		for _, o := range e.Owners {
			if o != full.ID {
				t.Errorf("entry %q lists owner %s, not a device of photos", e.Manifest.Path, o.Short())
			}
		}
	}
	for _, ps := range append(lPhotos.rec.peers, lPhotos.rec.regs[len(lPhotos.rec.regs)-1].Peers) {
		if hasPeer(ps, other.ID) {
			t.Errorf("the limited device's peer list %v holds a device of work only", ps)
		}
	}
	lPhotos.rec.mu.Unlock()
	oWork.rec.mu.Lock()
	if hasPeer(oWork.rec.currentPeers(), lim.ID) {
		t.Error("work's peer list holds the limited device")
	}
	oWork.rec.mu.Unlock()
}

// TestNarrowWidenRemove: narrowing a member's grant closes its session of
// the removed folder at once (and its peers learn it left), widening lets
// it register again, removing closes everything and it must join again.
func TestNarrowWidenRemove(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr, own := srv.Addr().String(), srv.Token()
	svc := testAdmin(srv)
	watcher := startClient(t, addr, own, nil, withFolder("work"))
	watcher.registered(t)

	dev := newTestIdentity(t)
	work := dialRaw(t, addr, own, dev)
	if m := work.registerFolder(t, "work", own.Secret[:]); m.GetRegistered() == nil {
		t.Fatalf("register work: %v", m)
	}
	photos := dialRaw(t, addr, own, dev)
	if m := photos.registerFolder(t, "photos", nil); m.GetRegistered() == nil {
		t.Fatalf("register photos: %v", m)
	}
	watcher.rec.wait(t, "the device on work", func(r *recorder) bool { return hasPeer(r.currentPeers(), dev.ID) })

	m, err := svc.SetFolders(t.Context(), dev.ID.String(), false, []string{"photos"})
	if err != nil || m.AllFolders || !slices.Equal(m.Folders, []string{"photos"}) {
		t.Fatalf("narrow: %+v %v", m, err)
	}
	if e := work.readError(t); e.Code != trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED {
		t.Fatalf("narrowed work session got %v, want ERROR_FOLDER_NOT_SHARED", e)
	}
	watcher.rec.wait(t, "the device gone from work", func(r *recorder) bool { return !hasPeer(r.currentPeers(), dev.ID) })
	again := dialRaw(t, addr, own, dev)
	if m := again.registerFolder(t, "work", nil); m.GetError().GetCode() != trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED {
		t.Fatalf("register work after narrowing: %v", m)
	}
	// photos stayed: its session still answers
	photos.send(t, &trackerpb.PeerMsg{Msg: &trackerpb.PeerMsg_FileUpdate{FileUpdate: &trackerpb.FileUpdate{RequestId: 1}}})
	if r := readUntilResults(t, photos); r.RequestId != 1 {
		t.Fatalf("photos session: %v", r)
	}

	if _, err := svc.SetFolders(t.Context(), dev.ID.String()[:9], true, nil); err != nil { // a prefix names the member
		t.Fatalf("widen: %v", err)
	}
	work2 := dialRaw(t, addr, own, dev)
	if m := work2.registerFolder(t, "work", nil); m.GetRegistered() == nil {
		t.Fatalf("register work after widening: %v", m)
	}
	watcher.rec.wait(t, "the device back on work", func(r *recorder) bool { return hasPeer(r.currentPeers(), dev.ID) })

	if err := svc.RemoveMember(t.Context(), dev.ID.String()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*rawPeer{photos, work2} {
		if e := p.readError(t); e.Code != trackerpb.ErrorCode_ERROR_NOT_MEMBER {
			t.Fatalf("removed member's session got %v, want ERROR_NOT_MEMBER", e)
		}
	}
	watcher.rec.wait(t, "the removed device gone", func(r *recorder) bool { return !hasPeer(r.currentPeers(), dev.ID) })
	back := dialRaw(t, addr, own, dev)
	if m := back.registerFolder(t, "work", nil); m.GetError().GetCode() != trackerpb.ErrorCode_ERROR_NOT_MEMBER {
		t.Fatalf("removed member registering without a token: %v", m)
	}
	ms, _ := svc.Members(t.Context())
	if slices.ContainsFunc(ms, func(m admin.Member) bool { return m.Device == dev.ID.String() }) {
		t.Fatal("removed member still listed")
	}
}

func readUntilResults(t testing.TB, p *rawPeer) *trackerpb.Results {
	t.Helper()
	for {
		if r := p.read(t).GetResults(); r != nil {
			return r
		}
	}
}

// TestExpiredTokenRefusedMemberStays: an expired token admits no new device,
// but a device that joined with it stays a member (and may present it again).
func TestExpiredTokenRefusedMemberStays(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr := srv.Addr().String()
	now := time.Now()
	g, _ := FolderGrant("photos")
	sec, err := srv.store.acl().issueToken(g, now.Add(time.Hour), now, randReader{})
	if err != nil {
		t.Fatal(err)
	}
	tok := Token{Tracker: srv.ID(), Secret: sec}
	early := newTestIdentity(t)
	if m := dialRaw(t, addr, tok, early).registerFolder(t, "photos", sec[:]); m.GetRegistered() == nil || !m.GetRegistered().NewMember {
		t.Fatalf("join before expiry: %v", m)
	}
	expireToken(t, srv.store, sec[:], now.Add(-time.Minute))
	late := newTestIdentity(t)
	m := dialRaw(t, addr, tok, late).registerFolder(t, "photos", sec[:])
	if e := m.GetError(); e == nil || e.Code != trackerpb.ErrorCode_ERROR_WRONG_TOKEN || !strings.Contains(e.Message, "expired") {
		t.Fatalf("join with an expired token: %v, want ERROR_WRONG_TOKEN (expired)", m)
	}
	if _, ok := srv.store.member(late.ID); ok {
		t.Fatal("an expired token made a member")
	}
	if m := dialRaw(t, addr, tok, early).registerFolder(t, "photos", sec[:]); m.GetRegistered() == nil {
		t.Fatalf("a member presenting the token it joined with, now expired: %v", m)
	}
}

// expireToken rewrites the expiry of an issued secret's record.
func expireToken(t testing.TB, s *store, secret []byte, at time.Time) {
	t.Helper()
	h := sha256.Sum256(secret)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		rec, err := decodeTokenRecord(b.Get(h[:]))
		if err != nil {
			return err
		}
		rec.ExpiresNs = at.UnixNano()
		v, _ := proto.Marshal(rec)
		return b.Put(h[:], v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// randReader is a deterministic secret source for tests.
type randReader struct{ b byte }

func (r randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	return len(p), nil
}

// TestMembersListing: the members list names each member's device, its
// name (as the device told it), its folders and the folders it is
// connected on now.
func TestMembersListing(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	addr, own := srv.Addr().String(), srv.Token()
	lim := issue(t, srv, "photos")
	a := startClient(t, addr, own, nil, withFolder("work"), func(c *ClientConfig) { c.DeviceName = "desktop" })
	b := startClient(t, addr, lim, nil, withFolder("photos"), func(c *ClientConfig) { c.DeviceName = "phone" })
	a.registered(t)
	b.registered(t)
	// REGISTERED reaches the client just before its session is listed as
	// live: ask until both are connected (or the deadline).
	byName := map[string]admin.Member{}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ms, err := testAdmin(srv).Members(t.Context())
		if err != nil || len(ms) != 2 {
			t.Fatalf("members: %+v %v", ms, err)
		}
		for _, m := range ms {
			byName[m.Name] = m
		}
		if len(byName["desktop"].Connected) > 0 && len(byName["phone"].Connected) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if m := byName["desktop"]; m.Device != a.id.ID.String() || !m.AllFolders || !slices.Equal(m.Connected, []string{"work"}) || m.Joined == nil || m.LastSeen == nil {
		t.Fatalf("desktop: %+v", m)
	}
	if m := byName["phone"]; m.Device != b.id.ID.String() || m.AllFolders || !slices.Equal(m.Folders, []string{"photos"}) || !slices.Equal(m.Connected, []string{"photos"}) {
		t.Fatalf("phone: %+v", m)
	}
}
