package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/index"
)

// TestPeerIdentity: one identity for all folders. Without --state it is
// read from the folders' state directories (a single folder upgraded:
// the old folder's identity is kept and copied to the new one, whatever
// the order of --dir), created if none has one, and two different ones
// refuse to start (exit status 2); with --state it lives there.
func TestPeerIdentity(t *testing.T) {
	base := t.TempDir()
	old := filepath.Join(base, "old", ".dartsync")
	oldID, err := identity.LoadOrCreate(old)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(base, "other", ".dartsync")
	otherID, err := identity.LoadOrCreate(other)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() string { return filepath.Join(t.TempDir(), ".dartsync") }
	fc := func(state string) peer.FolderConfig { return peer.FolderConfig{StateDir: state} }
	stateDir := t.TempDir()

	newOne := fresh()
	tests := []struct {
		name    string
		state   string
		folders []peer.FolderConfig
		want    identity.DeviceID // zero: a new one
		copied  []string          // state directories that must hold it afterwards
		wantErr bool
	}{
		{"old folder first", "", []peer.FolderConfig{fc(old), fc(newOne)}, oldID.ID, []string{newOne}, false},
		{"old folder second", "", []peer.FolderConfig{fc(fresh()), fc(old)}, oldID.ID, nil, false},
		{"none yet", "", []peer.FolderConfig{fc(fresh()), fc(fresh())}, identity.DeviceID{}, nil, false},
		{"two identities", "", []peer.FolderConfig{fc(old), fc(other)}, identity.DeviceID{}, nil, true},
		{"--state", stateDir, []peer.FolderConfig{fc(old), fc(other)}, identity.DeviceID{}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &peerCmd{State: tt.state}
			id, err := c.identity(tt.folders)
			if tt.wantErr {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != 2 {
					t.Fatalf("err %v, want exit status 2", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want.IsZero() && id.ID != tt.want {
				t.Fatalf("identity %s, want %s", id.ID.Short(), tt.want.Short())
			}
			if tt.want.IsZero() && (id.ID == oldID.ID || id.ID == otherID.ID) {
				t.Fatal("took a folder's identity")
			}
			dirs := tt.copied
			if tt.state == "" {
				for _, f := range tt.folders {
					dirs = append(dirs, f.StateDir)
				}
			} else {
				dirs = append(dirs, tt.state)
			}
			for _, d := range dirs {
				got, err := identity.LoadOrCreate(d)
				if err != nil || got.ID != id.ID {
					t.Errorf("%s holds %v (%v), want %s", d, got, err, id.ID.Short())
				}
			}
		})
	}
}

// TestCheckCanStart: without a token, some folder must have joined, and
// a folder never synced must exist (exit status 2 otherwise).
func TestCheckCanStart(t *testing.T) {
	joined := t.TempDir()
	if err := os.MkdirAll(filepath.Join(joined, ".dartsync"), 0o700); err != nil {
		t.Fatal(err)
	}
	withIndex := peer.FolderConfig{Name: "a", Root: joined, StateDir: filepath.Join(joined, ".dartsync")}
	if err := os.MkdirAll(filepath.Join(withIndex.StateDir, index.DirName), 0o700); err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	newExisting := peer.FolderConfig{Name: "b", Root: existing, StateDir: filepath.Join(existing, ".dartsync")}
	missing := filepath.Join(t.TempDir(), "not mounted")
	newMissing := peer.FolderConfig{Name: "c", Root: missing, StateDir: filepath.Join(missing, ".dartsync")}
	tests := []struct {
		name    string
		folders []peer.FolderConfig
		joining bool
		wantErr bool
	}{
		{"joined", []peer.FolderConfig{withIndex}, false, false},
		{"added, existing", []peer.FolderConfig{withIndex, newExisting}, false, false},
		{"added, missing", []peer.FolderConfig{withIndex, newMissing}, false, true},
		{"added, missing, with a token", []peer.FolderConfig{withIndex, newMissing}, true, false},
		{"none joined", []peer.FolderConfig{newExisting}, false, true},
		{"first join", []peer.FolderConfig{newMissing, newExisting}, true, false},
	}
	for _, tt := range tests {
		err := checkCanStart(tt.folders, tt.joining)
		var ee *exitError
		if (err != nil) != tt.wantErr || err != nil && (!errors.As(err, &ee) || ee.code != 2) {
			t.Errorf("%s: %v, want error %v (exit status 2)", tt.name, err, tt.wantErr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("checkCanStart created a folder")
	}
}

// TestPeerFolders: --dir and --state become the folders and their state
// directories; nested folders or a name given twice are usage errors.
func TestPeerFolders(t *testing.T) {
	base := t.TempDir()
	w, p := filepath.Join(base, "w"), filepath.Join(base, "p")
	tests := []struct {
		name      string
		dirs      []string
		state     string
		wantState []string
		wantErr   bool
	}{
		{"single, no --state", []string{w}, "", []string{filepath.Join(w, ".dartsync")}, false},
		{"single, --state", []string{w}, filepath.Join(base, "s"), []string{filepath.Join(base, "s")}, false},
		{"two, no --state", []string{"work=" + w, "photos=" + p}, "", []string{filepath.Join(w, ".dartsync"), filepath.Join(p, ".dartsync")}, false},
		{"default and named, --state", []string{w, "photos=" + p}, filepath.Join(base, "s"),
			[]string{filepath.Join(base, "s"), filepath.Join(base, "s", "folders", "photos")}, false},
		{"nested", []string{"work=" + w, "photos=" + filepath.Join(w, "photos")}, "", nil, true},
		{"name twice", []string{"work=" + w, "work=" + p}, "", nil, true},
		{"default twice", []string{w, p}, "", nil, true},
		{"--state inside a folder", []string{"work=" + w, "photos=" + p}, filepath.Join(w, "state"), nil, true},
	}
	for _, tt := range tests {
		c := &peerCmd{Dirs: tt.dirs, State: tt.state}
		got, err := c.folders()
		var ee *exitError
		if tt.wantErr {
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Errorf("%s: %v, want exit status 2", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for i, f := range got {
			if f.StateDir != tt.wantState[i] || f.StatsFile != filepath.Join(f.StateDir, "stats.json") {
				t.Errorf("%s: folder %d state %s stats %s, want %s", tt.name, i, f.StateDir, f.StatsFile, tt.wantState[i])
			}
		}
	}
}
