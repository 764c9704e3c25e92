package peer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/marker"
	"github.com/dartsync/dartsync/peer/watch"
)

// recognizeTries bounds how many indexed files New looks at to recognize
// an unmarked folder as the one it indexed (see problem).
const recognizeTries = 1000

// errFolderPaused: the folder is paused (see doc.go, "Paused"); the scan
// stopped without reporting anything.
var errFolderPaused = errors.New("peer: folder paused")

// folderGuard decides whether the folder may be synced now: active, or
// paused and why (see doc.go, "Folder marker" and "Paused"). Every part
// asks it before touching the folder; its loop owns the watcher. A guard
// not started (unit tests of single parts) lets everything through.
type folderGuard struct {
	root     string
	stateDir string
	name     string // the tracker folder (in the marker)
	// control is the daemon's local API endpoint, in the marker (New
	// sets it: one endpoint for all folders); "" = the one of stateDir.
	control  string
	self     identity.DeviceID
	idx      *index.Index
	log      *slog.Logger
	poll     time.Duration // Config.FolderPoll
	debounce time.Duration // the watcher's (Config.Debounce, Config.Settle, Config.Rescan)
	settle   time.Duration
	rescan   time.Duration
	scanKick chan struct{} // a resume, or a folder that came back during a scan, asks for a scan
	kick     chan struct{} // asks the loop to check the marker
	// ignore: the watcher skips ignored directories, and is started anew
	// when the rules change (ignore.go); nil watches everything.
	ignore *ignoreRules

	mu      sync.Mutex
	guarded bool
	paused  bool
	why     string // folderIssue.why: what is logged once
	reason  string // folderIssue.String(): for Stats
	pauses  uint64 // times the folder was paused (see scanGuard)
	// refusal: why the tracker refuses the folder (not shared with this
	// device); stopped: why its loop failed while other folders run (stop).
	// Either pauses the folder (folders.go); "" when none.
	refusal, stopped string
	// refusals counts the daemon's refused folders (nil in unit tests).
	refusals *refusals
}

// checkTime is when the folder is checked: at start (New), an unmarked
// folder provably the one indexed is marked, and a stale marker rewritten.
type checkTime uint8

const (
	running checkTime = iota
	atStart
)

// folderIssue is why a folder is paused: why says what is wrong (stable
// from one check to the next, so it is logged once), err is the error
// behind it, if any (its text may vary: a temporary file's name).
type folderIssue struct {
	why string
	err error
}

func (i folderIssue) String() string {
	if i.err == nil {
		return i.why
	}
	return i.why + " (" + i.err.Error() + ")"
}

func (g *folderGuard) get() (paused bool, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused, g.reason
}

// check decides whether the folder may be synced now, records the
// answer (logging it once when it changes) and reports whether it is
// active. It may write the marker (see problem), never anything else.
func (g *folderGuard) check() bool {
	if !g.guarded {
		return true
	}
	g.mu.Lock()
	refusal, stopped := g.refusal, g.stopped
	g.mu.Unlock()
	switch {
	case stopped != "":
		return g.set(folderIssue{why: "the folder stopped (restart the peer to retry): " + stopped})
	case refusal != "":
		return g.set(folderIssue{why: "the tracker refused this folder: " + refusal})
	}
	return g.set(g.problem(running))
}

// start turns the guard on and checks the folder as at start (New).
func (g *folderGuard) start() {
	g.mu.Lock()
	g.guarded = true
	g.mu.Unlock()
	g.set(g.problem(atStart))
}

// scanGuard is what a scan saw of the folder when it began: how many
// times it had been paused, and the mount it was on.
type scanGuard struct {
	pauses uint64
	mount  uint64
}

// beginScan checks the folder before a scan; false if it is paused.
func (g *folderGuard) beginScan() (scanGuard, bool) {
	if !g.check() {
		return scanGuard{}, false
	}
	g.mu.Lock()
	sg := scanGuard{pauses: g.pauses}
	guarded := g.guarded
	g.mu.Unlock()
	if guarded {
		sg.mount = mountID(g.root)
	}
	return sg, true
}

// pausedDuringScan checks the folder after a step of a scan (the disk may
// go, and come back, at any moment). The walk may have missed files that
// an unmount hid; the diff takes for deletions only the paths it then
// finds gone itself (an lstat each). So after the walk and after the diff
// the marker must be there, and the folder must not have gone and come
// back since the scan began: no pause seen meanwhile (by the folder poll,
// a watcher event or a pull) and the same mount (a new mount of the same
// disk has another mount ID). Else nothing is reported; a folder that is
// back is scanned again.
func (g *folderGuard) pausedDuringScan(sg scanGuard, step string) bool {
	if !g.check() {
		g.log.Debug("folder paused during the scan: nothing reported", "after", step)
		return true
	}
	g.mu.Lock()
	pauses, guarded := g.pauses, g.guarded
	g.mu.Unlock()
	if pauses == sg.pauses && (!guarded || mountID(g.root) == sg.mount) {
		return false
	}
	g.log.Debug("folder paused during the scan: it went away and came back; nothing reported, scanning again", "after", step)
	kick(g.scanKick)
	return true
}

// present is the check right before a write into the folder (apply,
// directory creation, parent directories of a download): the folder is
// active and its marker still there (one lstat). A missing marker is
// checked at once, so an unmount pauses the folder before anything is
// written into the empty mount point.
func (g *folderGuard) present() bool {
	if !g.guarded {
		return true
	}
	if paused, _ := g.get(); paused {
		return false
	}
	if _, err := os.Lstat(marker.Path(g.root)); err != nil {
		return g.check()
	}
	return true
}

// set records the outcome of a check (a zero issue: active);
// a change is logged once and kicks the folder loop (to close or start the
// watcher) and, on resume, a full scan.
func (g *folderGuard) set(is folderIssue) bool {
	paused := is.why != ""
	f := g
	f.mu.Lock()
	was, old := f.paused, f.why
	f.paused, f.why, f.reason = paused, is.why, is.String()
	if paused && !was {
		f.pauses++
	}
	f.mu.Unlock()
	switch {
	case paused && is.why != old:
		attrs := []any{"folder", g.root, "marker", marker.Path(g.root), "check_every", g.poll}
		if is.err != nil {
			attrs = append(attrs, "err", is.err)
		}
		g.log.Warn("folder paused: "+is.why+"; nothing is scanned, reported or applied (a missing file is not "+
			"a deleted one) until the folder and its marker are back", attrs...)
	case !paused && was:
		g.log.Info("folder resumed: its marker is back", "folder", g.root)
		kick(g.scanKick)
	}
	if paused != was {
		kick(g.kick)
	}
	return !paused
}

// problem says why the folder cannot be synced now (a zero issue if
// it can):
//
//   - a marker naming this device and this folder: the folder (at start,
//     a stale state directory in it is rewritten); one naming another
//     folder of this device: paused (folders.go);
//   - a marker naming another device: paused (another peer's folder);
//   - no marker and an index holding no live entry: nothing can be lost,
//     so the folder is created if missing and marked (a first start);
//   - no marker and an index holding files: paused (a disk not mounted,
//     the folder moved away), except at start (atStart) when the folder is
//     provably the one indexed, which marks it (a folder synced before
//     markers existed, or whose marker was removed by hand): the index
//     itself lives in the folder (the default state directory, found on
//     disk), or one of the indexed files is there unchanged (same size,
//     mtime and inode: an empty mount point or another disk has none).
func (g *folderGuard) problem(when checkTime) folderIssue {
	root := g.root
	m, err := marker.Read(root)
	switch {
	case err == nil && m.Device == g.self.String() && m.Folder != g.name:
		return folderIssue{why: fmt.Sprintf("the folder is marked as this device's folder %q, not %q "+
			"(swapped on the command line? if it is right, remove the marker and restart)", m.Folder, g.name)}
	case err == nil && m.Device == g.self.String():
		if when == atStart && (m.StateDir != g.stateDir || m.Control != g.controlPath()) {
			if err := g.writeMarker(); err != nil {
				g.log.Warn("update folder marker", "err", err)
			} else {
				g.log.Info("folder marker updated", "state", g.stateDir, "old_state", m.StateDir)
			}
		}
		return folderIssue{}
	case err == nil:
		return folderIssue{why: fmt.Sprintf("the folder is marked as another device's (device %s, state %s; "+
			"if that peer no longer syncs it, remove the marker and restart this one)", m.Device, m.StateDir)}
	case !errors.Is(err, marker.ErrMissing):
		return folderIssue{why: "its marker cannot be read (repair or remove it)", err: err}
	}
	if !g.idx.HasLive() {
		if err := os.MkdirAll(root, 0o755); err != nil {
			return folderIssue{why: "the folder cannot be created", err: err}
		}
		if err := g.writeMarker(); err != nil {
			return folderIssue{why: "the folder cannot be marked", err: err}
		}
		g.log.Info("folder marked", "marker", marker.Path(root), "state", g.stateDir)
		return folderIssue{}
	}
	if when == atStart && (g.stateInFolder() || g.recognize()) {
		if err := g.writeMarker(); err != nil {
			return folderIssue{why: "the folder cannot be marked", err: err}
		}
		g.log.Info("folder had no marker, but it is the one indexed: marked", "marker", marker.Path(root))
		return folderIssue{}
	}
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return folderIssue{why: "the folder does not exist (a disk or share not mounted? moved?)"}
	case err != nil:
		return folderIssue{why: "the folder cannot be read", err: err}
	case !fi.IsDir():
		return folderIssue{why: "the folder is not a directory"}
	}
	return folderIssue{why: "the folder has no marker (an empty mount point? a disk not mounted?)"}
}

// writeMarker marks the folder as this device's.
func (g *folderGuard) writeMarker() error {
	return marker.Write(g.root, marker.Marker{Folder: g.name, Device: g.self.String(), StateDir: g.stateDir,
		Control: g.controlPath()})
}

// stateInFolder reports whether the state directory (whose index was
// found on disk when this is asked, at start) is inside the folder.
func (g *folderGuard) stateInFolder() bool {
	return folderpath.Below(g.root, g.stateDir)
}

// loop owns the folder watcher: it runs one while the folder is
// active and forwards its changes to the scan loop (out), closes it when
// the folder pauses and starts a new one when it resumes (a watcher cannot
// watch a missing root, and its watches end with an unmount). It checks
// the folder every FolderPoll (an unmount sends no event), when kicked, and when the watcher saw the
// root or its state directory change.
func (g *folderGuard) loop(ctx context.Context, out chan<- watch.Change) error {
	var w *watch.Watcher
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	tick := time.NewTicker(g.poll)
	defer tick.Stop()
	var pending watch.Change // for the scan loop
	check := false
	for {
		if check {
			check = false
			g.check()
		}
		switch paused, _ := g.get(); {
		case paused && w != nil:
			w.Close()
			w, pending = nil, watch.Change{}
		case !paused && w == nil:
			g.ignore.reloadForWatch()
			nw, err := watch.New(g.root, watch.Options{Delay: g.debounce, Settle: g.settle, Rescan: g.rescan, Log: g.log, Skip: g.ignore.skipDir})
			if err != nil {
				return fmt.Errorf("peer: %w", err)
			}
			w = nw
		}
		var in <-chan watch.Change
		if w != nil {
			in = w.C()
		}
		var send chan<- watch.Change
		if pending.All || len(pending.Paths) > 0 {
			send = out
		}
		select {
		case <-ctx.Done():
			return nil
		case c := <-in:
			check = c.Root
			pending = mergeChanges(pending, c)
		case send <- pending:
			pending = watch.Change{}
		case <-tick.C:
			check = true
		case <-g.kick:
			check = true
		case <-g.ignore.changes():
			if w != nil { // watch what the new rules leave, then scan
				w.Close()
				w, pending = nil, mergeChanges(pending, watch.Change{All: true, Reason: "ignore rules changed"})
			}
		}
	}
}

// mergeChanges adds c's paths and full-scan request to p (Root is handled
// by the folder loop, not passed on).
func mergeChanges(p, c watch.Change) watch.Change {
	if c.All && !p.All {
		p.All, p.Reason = true, c.Reason
	}
	if len(c.Paths) > 0 {
		p.Paths = append(p.Paths, c.Paths...)
		slices.Sort(p.Paths)
		p.Paths = slices.Compact(p.Paths)
	}
	return p
}
