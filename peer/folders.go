package peer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
)

// The folder rules. This comment and docs/FOLDERS.md are the one place
// that defines them; the code of this file applies them.
//
//   - A folder is a directory on this device and a NAME on the tracker
//     (the folder name in REGISTER). `--dir PATH` is the tracker's default
//     folder, named ""; `--dir NAME=PATH` is folder NAME. NAME is 1 to 64
//     letters, digits, '.', '-' or '_', not starting with '.'
//     (ValidFolderName). The names of one daemon are distinct, and so are
//     their directories, none inside another.
//   - Device-wide, shared by every folder: the identity (one device ID),
//     the listener and piece server, the fetcher, and the one tracker
//     connection (tracker.Dialer) on which each folder has its control
//     stream. Each folder has its own: marker, index, chunk store,
//     partial downloads, versions (DIR/.dartsync/versions), stats file,
//     wants, pause state and tracker session.
//   - Where a folder's state lives (FolderStateDir): without --state, in
//     DIR/.dartsync, as for a single folder; with --state S, the default
//     folder "" in S itself (the single-folder layout of S) and folder NAME
//     in S/folders/NAME. The identity lives in S with --state; without it,
//     in every folder's DIR/.dartsync (the daemon copies it to a folder's
//     state that lacks it, and refuses to start if two folders hold
//     different identities: they were synced by two daemons).
//   - Membership (the tracker's address and identity) is the device's: it
//     is remembered in each folder's index; a folder whose index has none
//     (a folder added later) joins the tracker the others joined, with no
//     token (the device is a member already). A single folder upgraded from
//     an older dartsync keeps its state where it is: nothing moves.
//   - Creating a folder: the first time a folder is synced (its index holds
//     no files) its directory is created if missing and marked. A folder
//     added to a device that has joined needs its directory to exist (the
//     command line refuses a missing one: it may be a disk not mounted).
//   - The marker (DIR/.dartsync/marker, peer/marker) holds the folder's
//     tracker name, this device's ID and the folder's state directory. A
//     marker naming another device, or another folder of this device,
//     pauses the folder (another peer's folder; folders swapped on the
//     command line).
//   - Paused: a folder whose marker is missing or wrong (an unmounted
//     disk), or that the tracker does not share with this device
//     (tracker.ErrFolderNotShared, asked again every folderRefusedRetry),
//     or whose watcher cannot start (until a restart; a daemon's only
//     folder ends Run instead), is paused alone: nothing of it is scanned, reported or applied,
//     and the other folders go on. When the tracker refuses every folder
//     of the daemon, it stops with that error (nothing is left to sync).
//   - Added: a new --dir at the next start joins with the device's identity
//     and membership, like a first start of that folder.
//   - Removed: a folder left off the command line (or the config file) is
//     no longer synced; its state (index, chunk store, versions, marker) is
//     left as it is, and listing it again resumes it where it stopped. The
//     tracker still lists this device as an owner of its files until it
//     times out; nothing is deleted anywhere.
//   - Peer to peer: every piece request names its folder, and the piece
//     server serves a folder only to the devices the tracker lists as peers
//     of THAT folder (Daemon.Folder).

// ErrFolderConfig is wrapped by errors about the folders of a Config
// (a bad or repeated name, nested directories).
var ErrFolderConfig = errors.New("bad folder configuration")

// maxFolderName bounds a folder name given on this device.
const maxFolderName = 64

// FolderConfig is one folder of a Daemon.
type FolderConfig struct {
	Name      string // tracker folder name; "" = the tracker's default folder
	Root      string // the directory (absolute)
	StateDir  string // its index, chunk store and partials (absolute)
	StatsFile string // its JSON stats, written periodically; "" = none
}

// ValidFolderName checks a folder name given on this device (see the
// folder rules); "" is the default folder.
func ValidFolderName(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > maxFolderName || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%w: folder name %q: at most %d characters, not starting with '.'", ErrFolderConfig, name, maxFolderName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%w: folder name %q: only letters, digits, '.', '-' and '_'", ErrFolderConfig, name)
		}
	}
	return nil
}

// FolderStateDir is where folder name, whose directory is root, keeps its
// state by default: root/.dartsync without a device state directory
// (state == ""); with one, state itself for the default folder and
// state/folders/NAME for folder NAME.
func FolderStateDir(root, state, name string) string {
	switch {
	case state == "":
		return filepath.Join(root, manifest.StateDir)
	case name == "":
		return state
	}
	return filepath.Join(state, "folders", name)
}

// HasIndex reports whether stateDir holds a peer's index, without creating
// anything. Without one, a peer can only start with a join token: a
// missing index is a first start, or the state directory of a folder on a
// disk that is not mounted.
func HasIndex(stateDir string) (bool, error) {
	return index.Exists(stateDir)
}

// CheckFolders checks folders against the rules New applies (names,
// distinct and not nested directories, distinct state directories); an
// error wraps ErrFolderConfig.
func CheckFolders(folders []FolderConfig) error {
	c := Config{Folders: folders}
	_, err := c.folderConfigs()
	return err
}

// folderConfigs returns the folders of c (Config.Folders, or the single
// folder Root/StateDir/Folder/StatsFile) after checking the rules: valid,
// distinct names; distinct directories, none inside another.
func (c *Config) folderConfigs() ([]FolderConfig, error) {
	fcs := c.Folders
	if len(fcs) == 0 {
		fcs = []FolderConfig{{Name: c.Folder, Root: c.Root, StateDir: c.StateDir, StatsFile: c.StatsFile}}
	}
	for i, fc := range fcs {
		if err := ValidFolderName(fc.Name); err != nil {
			return nil, err
		}
		if fc.Root == "" || fc.StateDir == "" {
			return nil, fmt.Errorf("%w: folder %q needs a directory and a state directory", ErrFolderConfig, fc.Name)
		}
		for _, o := range fcs[:i] {
			switch {
			case o.Name == fc.Name:
				return nil, fmt.Errorf("%w: folder %q is given twice", ErrFolderConfig, fc.Name)
			case folderpath.Below(o.Root, fc.Root) || folderpath.Below(fc.Root, o.Root) || o.Root == fc.Root:
				return nil, fmt.Errorf("%w: folders %q (%s) and %q (%s) overlap", ErrFolderConfig, o.Name, o.Root, fc.Name, fc.Root)
			case o.StateDir == fc.StateDir:
				return nil, fmt.Errorf("%w: folders %q and %q have the same state directory %s", ErrFolderConfig, o.Name, fc.Name, fc.StateDir)
			}
		}
	}
	return fcs, nil
}

// forFolder is the Config of one folder's parts: c with the folder's
// directory, state, name and stats file.
func (c Config) forFolder(fc FolderConfig) Config {
	c.Root, c.StateDir, c.Folder, c.StatsFile = fc.Root, fc.StateDir, fc.Name, fc.StatsFile
	c.Folders = nil
	return c
}

// Folder implements transfer.Folders: the piece source of folder name and
// its authorizer, the tracker's live peers of that folder.
func (d *Daemon) Folder(name string) (transfer.PieceSource, transfer.Authorizer, bool) {
	f, ok := d.byName[name]
	if !ok {
		return nil, nil, false
	}
	return countingSource{src: f.store, n: &f.stats.BytesSent}, f.state.isMember, true
}

// AnyMember implements transfer.Folders: a live peer of any folder.
func (d *Daemon) AnyMember(id identity.DeviceID) bool {
	for _, f := range d.folders {
		if f.state.isMember(id) {
			return true
		}
	}
	return false
}
