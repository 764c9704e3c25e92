package peer

import (
	"context"
	"io/fs"
	"os"
	"time"

	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/versions"
)

// Pruning of kept versions: every pruneEvery, and pruneDelay after a
// version was kept (so a long pull prunes once, not per file).
const (
	pruneEvery = time.Hour
	pruneDelay = 10 * time.Second
)

// newVersions returns the versions store of cfg's folder, nil if
// cfg.KeepVersions is negative (nothing kept).
func newVersions(cfg Config) *versions.Store {
	if cfg.KeepVersions < 0 {
		return nil
	}
	return versions.Open(cfg.Root, versions.Options{
		MaxAge: cfg.KeepVersions, MaxBytes: cfg.KeepVersionsSize, MaxPercent: cfg.KeepVersionsPercent, Log: cfg.Log,
	})
}

// keepReplaced keeps the file at rel in versions before a remote version
// is renamed over it. False if it could not be kept: the file is not
// replaced (the want is retried).
func (d *Daemon) keepReplaced(rel string) bool {
	if d.versions == nil {
		return true
	}
	e, ok, err := d.versions.Keep(rel)
	if err != nil {
		d.log.Warn("cannot keep the version a remote change replaces: not replacing it yet", "path", rel, "err", err)
		return false
	}
	if ok {
		d.log.Debug("kept replaced version", "path", rel, "as", e.File)
		kick(d.pruneKick)
	}
	return true
}

// removeKept deletes the file at rel (abs), synced with stat st, for a
// remote deletion: it is moved into versions. If it turns out edited at
// that moment it stays (error wrapping versions.ErrChanged).
func (d *Daemon) removeKept(rel, abs string, st index.Stat) error {
	if d.versions == nil {
		return os.Remove(abs)
	}
	e, err := d.versions.Remove(rel, func(fi fs.FileInfo) bool {
		// Not the whole stat: moving the file changed its inode change
		// time (where the stat has one). The caller compared that
		// before the move.
		got := statOf(fi)
		return got.Size == st.Size && got.ModTime == st.ModTime && got.Inode == st.Inode
	})
	if err != nil {
		return err
	}
	d.log.Debug("kept deleted version", "path", rel, "as", e.File)
	kick(d.pruneKick)
	return nil
}

// pruneLoop prunes the kept versions at start, every pruneEvery, and
// pruneDelay after a version was kept.
func (d *Daemon) pruneLoop(ctx context.Context) error {
	if d.versions == nil {
		return nil
	}
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	var soon <-chan time.Time
	d.prune()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			d.prune()
		case <-d.pruneKick:
			if soon == nil {
				soon = time.After(pruneDelay)
			}
		case <-soon:
			soon = nil
			d.prune()
		}
	}
}

func (d *Daemon) prune() {
	if paused, _ := d.folder.get(); paused {
		return // not this peer's folder now (doc.go, "Paused")
	}
	res, err := d.versions.Prune(time.Now())
	if err != nil {
		d.log.Warn("prune kept versions", "err", err)
	}
	if res.Removed > 0 {
		d.log.Info("pruned kept versions", "removed", res.Removed, "freed", res.Freed,
			"left", res.Kept, "bytes", res.Bytes, "cap", res.Cap)
	}
}
