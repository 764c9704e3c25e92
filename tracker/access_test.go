package tracker

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/tracker/trackerpb"
)

func TestGrantAllows(t *testing.T) {
	photos, _ := FolderGrant("photos")
	two, _ := FolderGrant("work", "photos", "work")
	def, _ := FolderGrant("")
	tests := []struct {
		name   string
		g      Grant
		folder string
		want   bool
	}{
		{"all: any folder", AllFolders(), "anything", true},
		{"all: default folder", AllFolders(), "", true},
		{"zero grant: nothing", Grant{}, "photos", false},
		{"named folder", photos, "photos", true},
		{"other folder", photos, "work", false},
		{"default folder not implied", photos, "", false},
		{"prefix is not the folder", photos, "photo", false},
		{"case matters", photos, "Photos", false},
		{"two folders, second", two, "work", true},
		{"two folders, first", two, "photos", true},
		{"default folder granted", def, "", true},
		{"default folder only", def, "photos", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Allows(tt.folder); got != tt.want {
				t.Fatalf("%v.Allows(%q) = %v, want %v", tt.g, tt.folder, got, tt.want)
			}
		})
	}
	if !slices.Equal(two.Folders, []string{"photos", "work"}) {
		t.Fatalf("FolderGrant sorts and drops repeats: %q", two.Folders)
	}
}

func TestParseFolderList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"photos", []string{"photos"}, ""},
		{"work,photos", []string{"photos", "work"}, ""},
		{"photos,photos", []string{"photos"}, ""},
		{"(default),photos", []string{"", "photos"}, ""},
		{"with space", []string{"with space"}, ""},
		{"", nil, "empty folder list"},
		{"  ", nil, "empty folder list"},
		{"photos,", nil, "empty name at position 2"},
		{",photos", nil, "empty name at position 1"},
		{"a,,b", nil, "empty name at position 2"},
		{strings.Repeat("x", MaxFolderLen+1), nil, "at most 255 bytes"},
		{"bad\x00name", nil, "without NUL"},
		{"bad\xffutf8", nil, "UTF-8"},
		{strings.Repeat("f,", MaxGrantFolders) + "f", nil, "at most 1024 folders"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g, err := ParseFolderList(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFolderList(%q) = %v, %v; want error containing %q", tt.in, g, err, tt.wantErr)
				}
				return
			}
			if err != nil || g.All || !slices.Equal(g.Folders, tt.want) {
				t.Fatalf("ParseFolderList(%q) = %+v, %v; want %q", tt.in, g, err, tt.want)
			}
		})
	}
}

// TestJoinGrant: which folders a presented secret grants, and when it has
// expired. Issued tokens keep the existing token format.
func TestJoinGrant(t *testing.T) {
	s := openTestStore(t)
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	photos, _ := FolderGrant("photos")
	both, _ := FolderGrant("photos", "work")
	issue := func(g Grant, expires time.Time) []byte {
		sec, err := s.acl().issueToken(g, expires, now, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return sec[:]
	}
	forever := issue(photos, time.Time{})
	day := issue(both, now.Add(24*time.Hour))
	own := s.secret[:]
	tests := []struct {
		name        string
		secret      []byte
		at          time.Time
		want        Grant
		wantExpired bool
		wantErr     error
	}{
		{"tracker's own token", own, now, AllFolders(), false, nil},
		{"issued, no expiry", forever, now.Add(10 * 365 * 24 * time.Hour), photos, false, nil},
		{"issued, before expiry", day, now.Add(time.Hour), both, false, nil},
		{"issued, at expiry", day, now.Add(24 * time.Hour), both, true, nil},
		{"issued, after expiry", day, now.Add(48 * time.Hour), both, true, nil},
		{"unknown secret", bytes.Repeat([]byte{1}, SecretSize), now, Grant{}, false, ErrWrongToken},
		{"short secret", own[:8], now, Grant{}, false, ErrWrongToken},
		{"long secret", append(slices.Clone(own), 0), now, Grant{}, false, ErrWrongToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, expired, err := s.acl().joinGrant(tt.secret, tt.at)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if g.All != tt.want.All || !slices.Equal(g.Folders, tt.want.Folders) || expired != tt.wantExpired {
				t.Fatalf("got %+v expired=%v, want %+v expired=%v", g, expired, tt.want, tt.wantExpired)
			}
		})
	}
	if _, err := s.acl().issueToken(AllFolders(), time.Time{}, now, rand.Reader); err == nil {
		t.Fatal("issued a token for all folders; only the tracker's own token grants them")
	}
}

// TestIssuedTokenFormat: an issued token is "<tracker ID>:<secret>" like the
// tracker's own, parses with ParseToken, and the state keeps only its hash.
func TestIssuedTokenFormat(t *testing.T) {
	srv := startServer(t, t.TempDir(), ServerConfig{})
	svc := testAdmin(srv)
	tests := []struct {
		name    string
		folders []string
		ttl     time.Duration
		wantErr string
	}{
		{"one folder", []string{"photos"}, 0, ""},
		{"two folders, a day", []string{"photos", "work"}, 24 * time.Hour, ""},
		{"default folder", []string{""}, time.Minute, ""},
		{"no folder", nil, 0, "at least one folder"},
		{"negative expiry", []string{"photos"}, -time.Second, "negative expiry"},
		{"NUL in name", []string{"a\x00b"}, 0, "without NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := svc.IssueToken(t.Context(), tt.folders, tt.ttl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ParseToken(at.Token)
			if err != nil {
				t.Fatalf("issued token %q does not parse: %v", at.Token, err)
			}
			if tok.Tracker != srv.ID() || tok.Secret == srv.Token().Secret {
				t.Fatalf("issued token %v: wrong tracker or the tracker's own secret", tok)
			}
			if (at.Expires != nil) != (tt.ttl > 0) {
				t.Fatalf("expires = %v for ttl %v", at.Expires, tt.ttl)
			}
			g, expired, err := srv.store.acl().joinGrant(tok.Secret[:], time.Now())
			if err != nil || expired || !slices.Equal(g.Folders, at.Folders) {
				t.Fatalf("joinGrant = %+v %v %v", g, expired, err)
			}
		})
	}
	// Only hashes of issued secrets are stored: no stored byte string holds a secret.
	raw := dumpState(t, srv.store)
	for _, tt := range []string{"photos"} {
		at, _ := svc.IssueToken(t.Context(), []string{tt}, 0)
		tok, _ := ParseToken(at.Token)
		if bytes.Contains(dumpState(t, srv.store), tok.Secret[:]) || bytes.Contains(raw, tok.Secret[:]) {
			t.Fatal("an issued secret is stored in the state")
		}
	}
}

// dumpState concatenates every key and value of the state.
func dumpState(t *testing.T, s *store) []byte {
	t.Helper()
	var out []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out = append(append(out, k...), v...)
				return nil
			})
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOwnersFilteredByGrant: an entry's owners list only devices granted
// its folder; a narrowed or removed member disappears from owner lists.
func TestOwnersFilteredByGrant(t *testing.T) {
	s := openTestStore(t)
	a, b := newTestIdentity(t).ID, newTestIdentity(t).ID
	na, _, _ := s.addMember(a)
	nb, _, _ := s.addMember(b)
	f := testFile("w.txt", "work", t0, [32]byte{})
	if _, err := s.apply("work", na, reports(f)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.apply("work", nb, reports(f)); err != nil {
		t.Fatal(err)
	}
	owners := func() Entry {
		e, ok, err := s.lookup("work", "w.txt")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		return e
	}
	if e := owners(); !ownedBy(e, a, b) {
		t.Fatalf("owners %v, want both", e.Owners)
	}
	photos, _ := FolderGrant("photos")
	if err := s.acl().setGrant(b, photos); err != nil {
		t.Fatal(err)
	}
	if e := owners(); !ownedBy(e, a) {
		t.Fatalf("after narrowing b: owners %v, want only a", e.Owners)
	}
	if err := s.acl().setGrant(b, AllFolders()); err != nil {
		t.Fatal(err)
	}
	if e := owners(); !ownedBy(e, a, b) {
		t.Fatalf("after widening b: owners %v, want both", e.Owners)
	}
	if err := s.acl().removeMember(a, time.Now()); err != nil {
		t.Fatal(err)
	}
	if e := owners(); !ownedBy(e, b) {
		t.Fatalf("after removing a: owners %v, want only b", e.Owners)
	}
	if err := s.acl().removeMember(a, time.Now()); !errors.Is(err, ErrNotMember) {
		t.Fatalf("removing twice: %v, want ErrNotMember", err)
	}
	if err := s.acl().setGrant(a, photos); !errors.Is(err, ErrNotMember) {
		t.Fatalf("grant of a removed member: %v, want ErrNotMember", err)
	}
}

func TestFolderNotSharedSentinel(t *testing.T) {
	err := error(&remoteError{trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED, "folder not shared"})
	if !errors.Is(err, ErrFolderNotShared) {
		t.Fatalf("ERROR_FOLDER_NOT_SHARED is not ErrFolderNotShared")
	}
}

// TestConcurrentGrantChanges: grant changes at the same moment leave memory
// and the state agreeing on the last one committed.
func TestConcurrentGrantChanges(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(dir+"/state.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := newTestIdentity(t).ID
	if _, _, err := s.addMember(d); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			g, _ := FolderGrant(fmt.Sprintf("f%d", i))
			if err := s.acl().setGrant(d, g); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	inMemory := s.acl().grantOf(d)
	if err := s.close(endEpoch); err != nil {
		t.Fatal(err)
	}
	s, err = openStore(dir+"/state.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(endEpoch)
	if g := s.acl().grantOf(d); g.All || len(g.Folders) != 1 || !slices.Equal(g.Folders, inMemory.Folders) {
		t.Fatalf("after reopening: %+v, in memory before: %+v", g, inMemory)
	}
}
