package tracker

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/admin"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// unpackOldState unpacks testdata/state-v1.tar.gz: a tracker state written
// by the code before grants existed (tracker/, with its join.token) and the
// identities of its two members: peer-a joined on the default folder and
// reported a.txt there, peer-b on "photos" with a.txt there.
func unpackOldState(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "state-v1.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("bad name %q in the archive", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOldStateKeepsWorking: a state written before grants existed opens;
// its token is unchanged, its members have every folder, their entries
// keep their owners, and new tokens and grants can be added to it, both
// with no tracker running (OpenStateAdmin) and through a running one.
func TestOldStateKeepsWorking(t *testing.T) {
	dir := unpackOldState(t)
	state := filepath.Join(dir, "tracker")
	oldTok, err := os.ReadFile(filepath.Join(state, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	load := func(name string) *identity.Identity {
		id, err := identity.LoadOrCreate(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := load("peer-a"), load("peer-b")

	// no tracker running: the admin commands open the state
	sa, err := OpenStateAdmin(state)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sa.Members(t.Context())
	if err != nil || len(ms) != 2 {
		t.Fatalf("members of the old state: %+v %v", ms, err)
	}
	for _, m := range ms {
		if !m.AllFolders || m.Joined != nil {
			t.Fatalf("old member %+v: want every folder and no join time", m)
		}
	}
	limited, err := sa.IssueToken(t.Context(), []string{"photos"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Close(); err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, state, ServerConfig{})
	if srv.Token().String()+"\n" != string(oldTok) {
		t.Fatalf("token changed: %q, was %q", srv.Token(), oldTok)
	}
	addr := srv.Addr().String()
	for _, folder := range []string{"", "photos", "new-folder"} {
		if m := dialRaw(t, addr, srv.Token(), b).registerFolder(t, folder, nil); m.GetRegistered() == nil {
			t.Fatalf("old member registering folder %q: %v", folder, m)
		}
	}
	for _, c := range []struct {
		folder string
		owner  identity.DeviceID
	}{{"", a.ID}, {"photos", b.ID}} {
		e, ok, err := srv.store.lookup(c.folder, "a.txt")
		if err != nil || !ok || !ownedBy(e, c.owner) {
			t.Fatalf("entry a.txt of %q: %+v %v %v", c.folder, e, ok, err)
		}
	}
	// the token issued while it was stopped works, and grants only photos
	tok, err := ParseToken(limited.Token)
	if err != nil {
		t.Fatal(err)
	}
	newcomer := newTestIdentity(t)
	if m := dialRaw(t, addr, tok, newcomer).registerFolder(t, "", tok.Secret[:]); m.GetError().GetCode() != trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED {
		t.Fatalf("limited newcomer on the default folder: %v", m)
	}
	if m := dialRaw(t, addr, tok, newcomer).registerFolder(t, "photos", nil); m.GetRegistered() == nil {
		t.Fatalf("limited newcomer on photos: %v", m)
	}
	if _, err := OpenStateAdmin(state); !errors.Is(err, ErrTrackerRunning) {
		t.Fatalf("OpenStateAdmin while the tracker runs: %v, want ErrTrackerRunning", err)
	}
	// the running tracker's admin socket narrows an old member
	cl := admin.NewClient(srv.AdminSocket())
	if _, err := cl.SetFolders(t.Context(), a.ID.String(), false, []string{""}); err != nil {
		t.Fatal(err)
	}
	if m := dialRaw(t, addr, srv.Token(), a).registerFolder(t, "photos", nil); m.GetError().GetCode() != trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED {
		t.Fatalf("narrowed old member on photos: %v", m)
	}
}
