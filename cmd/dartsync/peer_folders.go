package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer"
)

// parseDir splits a --dir value: NAME=PATH (NAME a valid folder name) or a
// bare PATH (the tracker's default folder ""). A value whose part before
// the first '=' is not a folder name (it holds a path separator) is a
// bare path.
func parseDir(v string) (name, path string, err error) {
	if n, p, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(n, `/\`) {
		if n == "" {
			return "", "", withExitCode(2, fmt.Errorf("--dir %q: empty folder name before '='", v))
		}
		if err := peer.ValidFolderName(n); err != nil {
			return "", "", withExitCode(2, fmt.Errorf("--dir %q: %w", v, err))
		}
		name, v = n, p
	}
	if v == "" {
		return "", "", withExitCode(2, fmt.Errorf("--dir: empty path"))
	}
	return name, expandHome(v), nil
}

// expandHome expands a leading ~/ (a config file's paths are not expanded
// by a shell).
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// folders turns --dir and --state into the daemon's folders (the rules of
// peer/folders.go): each with its absolute directory, its state directory
// (peer.FolderStateDir) and its stats file; no state directory inside a
// synced folder (checkStateDir).
func (c *peerCmd) folders() ([]peer.FolderConfig, error) {
	state := ""
	if c.State != "" {
		s, err := filepath.Abs(expandHome(c.State))
		if err != nil {
			return nil, err
		}
		state = s
	}
	var out []peer.FolderConfig
	for _, v := range c.Dirs {
		name, p, err := parseDir(v)
		if err != nil {
			return nil, err
		}
		root, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		st := peer.FolderStateDir(root, state, name)
		for _, o := range out {
			if o.Name == name {
				return nil, withExitCode(2, fmt.Errorf("folder %q is given twice (--dir %s and --dir %s): give each folder once, named NAME=PATH", name, o.Root, root))
			}
		}
		out = append(out, peer.FolderConfig{Name: name, Root: root, StateDir: st, StatsFile: filepath.Join(st, "stats.json")})
	}
	if err := peer.CheckFolders(out); err != nil {
		return nil, withExitCode(2, err)
	}
	for _, f := range out {
		for _, o := range out {
			if err := checkStateDir(f.Root, o.StateDir); err != nil {
				return nil, err
			}
		}
		if state != "" {
			if err := checkStateDir(f.Root, state); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// checkCanStart refuses to start (exit status 2) before anything is
// created: with no join token, at least one folder must have joined (an
// index in its state directory), and a folder never synced (added later)
// must exist, so that an unmounted disk's mount point is not taken for a
// new folder.
func checkCanStart(folders []peer.FolderConfig, joining bool) error {
	anyIndex := false
	var fresh []peer.FolderConfig
	for _, f := range folders {
		had, err := peer.HasIndex(f.StateDir)
		if err != nil {
			return err
		}
		anyIndex = anyIndex || had
		if !had {
			fresh = append(fresh, f)
		}
	}
	if joining {
		return nil
	}
	if !anyIndex {
		states := make([]string, len(folders))
		for i, f := range folders {
			states[i] = f.StateDir
		}
		return withExitCode(2, fmt.Errorf("%w (no index in %s: no folder has joined a tracker yet, or they are on a disk that is not mounted; nothing was created)",
			peer.ErrNoTracker, strings.Join(states, ", ")))
	}
	for _, f := range fresh {
		if fi, err := os.Stat(f.Root); err != nil || !fi.IsDir() {
			return withExitCode(2, fmt.Errorf("folder %q (%s) is new to this device and its directory does not exist: create it to add the folder (or mount its disk); nothing was created",
				f.Name, f.Root))
		}
	}
	return nil
}

// identity loads the device's one identity (peer/folders.go): from
// --state when given; else from the state directories of the folders,
// which must agree, copied to those that lack it; created if none has it.
func (c *peerCmd) identity(folders []peer.FolderConfig) (*identity.Identity, error) {
	var dirs []string
	if c.State != "" {
		s, err := filepath.Abs(expandHome(c.State))
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, s)
	} else {
		for _, f := range folders {
			dirs = append(dirs, f.StateDir)
		}
	}
	var (
		id   *identity.Identity
		from string
	)
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, identity.KeyFile)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		got, err := identity.LoadOrCreate(d)
		if err != nil {
			return nil, fmt.Errorf("peer: identity in %s: %w", d, err)
		}
		switch {
		case id == nil:
			id, from = got, d
		case got.ID != id.ID:
			return nil, withExitCode(2, fmt.Errorf("the state directories %s and %s hold two device identities (%s, %s): "+
				"their folders were synced by two daemons; run those folders as before, or join one afresh with another state directory",
				from, d, id.ID.Short(), got.ID.Short()))
		}
	}
	if id == nil {
		got, err := identity.LoadOrCreate(dirs[0])
		if err != nil {
			return nil, fmt.Errorf("peer: identity: %w", err)
		}
		id, from = got, dirs[0]
	}
	for _, d := range dirs {
		if d != from {
			if err := copyIdentity(from, d); err != nil {
				return nil, err
			}
		}
	}
	return id, nil
}

// copyIdentity copies the identity files of dir from to dir to, unless to
// has a key already (then it is the same: identity checked that).
func copyIdentity(from, to string) error {
	if _, err := os.Stat(filepath.Join(to, identity.KeyFile)); err == nil {
		return nil
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		return fmt.Errorf("peer: create state directory: %w", err)
	}
	for _, name := range []string{identity.CertFile, identity.KeyFile} { // the key last: it marks a complete copy
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			return fmt.Errorf("peer: copy identity: %w", err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			return fmt.Errorf("peer: copy identity: %w", err)
		}
	}
	return nil
}

// deviceState is the device's state directory (the local API's socket):
// --state, else the first folder's state directory.
func (c *peerCmd) deviceState(folders []peer.FolderConfig) string {
	if c.State != "" {
		if s, err := filepath.Abs(expandHome(c.State)); err == nil {
			return s
		}
	}
	return folders[0].StateDir
}
