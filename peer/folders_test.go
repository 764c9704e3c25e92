package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/admin"
)

// startFolders runs a daemon of the named folders (name -> directory),
// each with its state in a temporary directory, joined with tok (the
// tracker's own token if zero).
func (n *testNet) startFolders(dirs map[string]string, order []string, tok tracker.Token, prep func(*Daemon)) *testPeer {
	n.t.Helper()
	if tok == (tracker.Token{}) {
		tok = n.token
	}
	state := n.t.TempDir()
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		n.t.Fatal(err)
	}
	var fcs []FolderConfig
	for _, name := range order {
		fcs = append(fcs, FolderConfig{Name: name, Root: dirs[name], StateDir: FolderStateDir(dirs[name], state, name)})
	}
	d, err := New(Config{
		Folders: fcs, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: tok.Tracker, Secret: tok.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		n.t.Fatal(err)
	}
	if prep != nil {
		prep(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	n.t.Cleanup(p.stop)
	return p
}

// folderScanned waits until the folder named name of p has scanned.
func (p *testPeer) folderScanned(t *testing.T, name string) {
	t.Helper()
	waitFor(t, "first scan of "+name, func() bool { return p.d.byName[name].stats.ScansCompleted.Load() > 0 })
}

// Three daemons, two folders: a and b share work and photos, c joins
// with a token limited to photos but runs work too. Files sync per
// folder; the piece server of a serves c photos and not work; c's work,
// which the tracker refuses, pauses alone with the reason while the
// others sync, and resumes once the tracker's admin widens c's grant.
func TestDaemonSeveralFolders(t *testing.T) {
	n := newTestNet(t)
	adm := admin.NewClient(n.srv.AdminSocket())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	issued, err := adm.IssueToken(ctx, []string{"photos"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	photosOnly, err := tracker.ParseToken(issued.Token)
	if err != nil {
		t.Fatal(err)
	}

	dirs := func() map[string]string {
		base := t.TempDir()
		return map[string]string{"work": filepath.Join(base, "work"), "photos": filepath.Join(base, "photos")}
	}
	ad, bd, cd := dirs(), dirs(), dirs()
	a := n.startFolders(ad, []string{"work", "photos"}, tracker.Token{}, nil)
	a.folderScanned(t, "work")
	a.folderScanned(t, "photos")
	b := n.startFolders(bd, []string{"work", "photos"}, tracker.Token{}, nil)
	b.folderScanned(t, "work")
	b.folderScanned(t, "photos")
	c := n.startFolders(cd, []string{"photos", "work"}, photosOnly, func(d *Daemon) {
		d.byName["work"].refusedRetry = 50 * time.Millisecond
	})
	c.folderScanned(t, "photos")
	cw := c.d.byName["work"]
	waitFor(t, "c's work paused by the refusal", func() bool {
		paused, why := cw.guard.get()
		return paused && strings.Contains(why, "not shared")
	})
	if st := c.d.Stats(); !st.Paused || !strings.Contains(st.PausedReason, "not shared") {
		t.Fatalf("c's stats: paused %v %q", st.Paused, st.PausedReason)
	}

	write := func(root, rel, data string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(ad["work"], "plan.txt", "work of a")
	write(ad["photos"], "cat.jpg", "photo of a")
	write(cd["photos"], "dog.jpg", "photo of c")
	waitFor(t, "plan.txt on b", fileIs(filepath.Join(bd["work"], "plan.txt"), []byte("work of a")))
	for _, d := range []map[string]string{ad, bd, cd} {
		waitFor(t, "cat.jpg", fileIs(filepath.Join(d["photos"], "cat.jpg"), []byte("photo of a")))
		waitFor(t, "dog.jpg", fileIs(filepath.Join(d["photos"], "dog.jpg"), []byte("photo of c")))
	}
	for _, p := range []string{filepath.Join(cd["work"], "plan.txt"), filepath.Join(ad["photos"], "plan.txt"), filepath.Join(bd["work"], "cat.jpg")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want not to exist", p, err)
		}
	}
	// per-folder authorization of a's piece server
	if _, auth, ok := a.d.Folder("photos"); !ok || !auth(c.d.self) {
		t.Error("a does not serve c its photos")
	}
	if _, auth, ok := a.d.Folder("work"); !ok || auth(c.d.self) {
		t.Error("a serves c its work")
	}
	if _, _, ok := a.d.Folder("music"); ok {
		t.Error("a serves a folder it does not have")
	}

	// metrics and stats per folder: c's two folders, work paused
	mf := c.d.obs.MetricFolders()
	if len(mf) != 2 || mf[0].Name != "photos" || mf[0].Paused || mf[1].Name != "work" || !mf[1].Paused {
		t.Errorf("c's metric folders: %+v", mf)
	}
	// The counter follows the file's rename into place by a moment.
	waitFor(t, "c's photos stats count cat.jpg", func() bool { return c.d.byName["photos"].snapshot().FilesApplied > 0 })
	if st := c.d.byName["photos"].snapshot(); st.Paused {
		t.Errorf("c's photos stats: paused %v, %d files applied", st.Paused, st.FilesApplied)
	}

	// the tracker shares work with c: it resumes and syncs
	if _, err := adm.SetFolders(ctx, c.d.self.String(), false, []string{"photos", "work"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c's work resumed", func() bool { paused, _ := cw.guard.get(); return !paused })
	waitFor(t, "plan.txt on c", fileIs(filepath.Join(cd["work"], "plan.txt"), []byte("work of a")))
	if _, auth, _ := a.d.Folder("work"); !auth(c.d.self) {
		t.Error("a does not serve c work once shared")
	}
}

// TestFolderConfigs: the folder rules a Config is checked against.
func TestFolderConfigs(t *testing.T) {
	f := func(name, root string) FolderConfig {
		return FolderConfig{Name: name, Root: root, StateDir: filepath.Join(root, ".dartsync")}
	}
	tests := []struct {
		name    string
		folders []FolderConfig
		wantErr bool
	}{
		{"one default", []FolderConfig{f("", "/a")}, false},
		{"two named", []FolderConfig{f("work", "/w"), f("photos", "/p")}, false},
		{"default and named", []FolderConfig{f("", "/d"), f("photos", "/p")}, false},
		{"same name", []FolderConfig{f("work", "/w"), f("work", "/p")}, true},
		{"same directory", []FolderConfig{f("work", "/w"), f("photos", "/w")}, true},
		{"nested", []FolderConfig{f("work", "/w"), f("photos", "/w/p")}, true},
		{"same state", []FolderConfig{f("work", "/w"), {Name: "photos", Root: "/p", StateDir: "/w/.dartsync"}}, true},
		{"bad name", []FolderConfig{f("../x", "/w")}, true},
		{"no directory", []FolderConfig{{Name: "work"}}, true},
	}
	for _, tt := range tests {
		c := Config{Folders: tt.folders}
		_, err := c.folderConfigs()
		if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrFolderConfig) {
			t.Errorf("%s: %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
	if got := FolderStateDir("/w", "", "work"); got != filepath.Join("/w", ".dartsync") {
		t.Errorf("no --state: %s", got)
	}
	if got := FolderStateDir("/w", "/s", ""); got != "/s" {
		t.Errorf("--state, default folder: %s", got)
	}
	if got := FolderStateDir("/w", "/s", "work"); got != filepath.Join("/s", "folders", "work") {
		t.Errorf("--state, folder work: %s", got)
	}
}
