// Package marker reads and writes a synced folder's marker: the file
// DIR/.dartsync/folder that says "this directory is a DartSync folder".
//
// Terms:
//
//   - Marker: a small JSON document at Path(DIR) naming the tracker folder,
//     the device that syncs DIR and the absolute state directory (index,
//     chunk store, identity), which may live outside DIR (`--state`), and
//     the peer's local control API endpoint (Control). Tools that are given
//     only the folder (`dartsync status --dir DIR`, `dartsync versions`,
//     `dartsync restore`) find the state and the running peer through it.
//   - Absence is not deletion: a peer whose index holds files syncs DIR only
//     while its marker is there. A folder that is missing, or lacks its
//     marker (a disk not mounted, a NAS share gone), is paused, never read
//     as "every file was deleted".
//
// The marker is written when a folder is first seen (no index yet), and
// rewritten only by the device it names (its state directory moved), always
// atomically (temporary file, fsync, rename, fsync of the directory). The
// peer's rules for a missing or foreign marker are in package peer
// ("Paused").
//
// Sentinel errors: ErrMissing (no marker at DIR: the folder, its state
// directory or the marker file does not exist).
package marker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dartsync/dartsync/manifest"
)

// FileName is the marker's name inside DIR/.dartsync.
const FileName = "folder"

// version is the marker format written; Read accepts it and later ones
// (fields are only ever added).
const version = 1

// maxSize bounds what Read accepts.
const maxSize = 64 << 10

// ErrMissing is wrapped by Read when DIR has no marker.
var ErrMissing = errors.New("folder marker missing")

// Marker is the content of a folder's marker.
type Marker struct {
	Version  int    `json:"version"`
	Folder   string `json:"folder"`    // tracker folder name ("" = the default folder)
	Device   string `json:"device"`    // device ID of the peer syncing this folder
	StateDir string `json:"state_dir"` // absolute state directory of that peer
	// Control is the peer's local API endpoint (localapi.ControlPath of
	// StateDir: its control socket); empty in markers written before it
	// existed, where clients take that path themselves.
	Control string `json:"control,omitempty"`
}

// Path returns the marker's path for the folder root.
func Path(root string) string {
	return filepath.Join(root, manifest.StateDir, FileName)
}

// Read returns the marker of the folder at root; an error wrapping
// ErrMissing if there is none (root, root/.dartsync or the file missing).
func Read(root string) (Marker, error) {
	p := Path(root)
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return Marker{}, fmt.Errorf("%w: %s", ErrMissing, p)
		}
		return Marker{}, fmt.Errorf("marker: %w", err)
	}
	defer f.Close()
	var m Marker
	dec := json.NewDecoder(&limitedReader{r: f, n: maxSize})
	if err := dec.Decode(&m); err != nil {
		return Marker{}, fmt.Errorf("marker: %s: %w", p, err)
	}
	if m.Version < 1 || m.StateDir == "" || !filepath.IsAbs(m.StateDir) {
		return Marker{}, fmt.Errorf("marker: %s: not a valid marker (version %d, state %q)", p, m.Version, m.StateDir)
	}
	return m, nil
}

// Write creates (or replaces) the marker of the folder at root, creating
// root/.dartsync if needed. root itself must exist.
func Write(root string, m Marker) error {
	m.Version = version
	if !filepath.IsAbs(m.StateDir) {
		return fmt.Errorf("marker: state directory %q is not absolute", m.StateDir)
	}
	if _, err := os.Stat(root); err != nil {
		return fmt.Errorf("marker: folder: %w", err)
	}
	dir := filepath.Join(root, manifest.StateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	tmp, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("marker: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("marker: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	// Readable by tools of other users; a file system without permissions
	// (FAT on a removable disk) refuses, and that is fine.
	_ = os.Chmod(tmp.Name(), 0o644)
	if err := os.Rename(tmp.Name(), Path(root)); err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("marker: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("marker: sync %s: %w", dir, err)
	}
	return nil
}

// limitedReader fails (instead of truncating) past n bytes.
type limitedReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("marker larger than 64 KiB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
