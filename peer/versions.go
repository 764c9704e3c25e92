package peer

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/dartsync/dartsync/peer/scan"
	"github.com/dartsync/dartsync/peer/versions"
)

// Pruning of kept versions: every pruneEvery, and pruneDelay after a
// version was kept (so a long pull prunes once, not per file).
const (
	pruneEvery = time.Hour
	pruneDelay = 10 * time.Second
)

// versionKeeper keeps the files remote changes replace or delete in the
// folder's versions store (peer/versions) and prunes it in the background.
type versionKeeper struct {
	store *versions.Store // nil when nothing is kept (Config.KeepVersions < 0)
	guard *folderGuard
	log   *slog.Logger
	kick  chan struct{} // a version was kept: prune soon
}

// newVersionKeeper returns the keeper of cfg's folder; its store is nil if
// cfg.KeepVersions is negative (nothing kept).
func newVersionKeeper(cfg Config, guard *folderGuard) *versionKeeper {
	k := &versionKeeper{guard: guard, log: cfg.Log, kick: make(chan struct{}, 1)}
	if cfg.KeepVersions >= 0 {
		k.store = versions.Open(cfg.Root, versions.Options{
			MaxAge: cfg.KeepVersions, MaxBytes: cfg.KeepVersionsSize, MaxPercent: cfg.KeepVersionsPercent, Log: cfg.Log,
		})
	}
	return k
}

// keepReplaced keeps the file at rel in versions before a remote version
// is renamed over it. An error if it could not be kept: the file is not
// replaced (the want is retried; the caller logs it).
func (k *versionKeeper) keepReplaced(rel string) error {
	if k.store == nil {
		return nil
	}
	e, ok, err := k.store.Keep(rel)
	if err != nil {
		return err
	}
	if ok {
		k.log.Debug("kept replaced version", "path", rel, "as", e.File)
		kick(k.kick)
	}
	return nil
}

// removeKept deletes the file at rel (abs), synced with stat st, for a
// remote deletion: it is moved into versions. If it turns out edited at
// that moment it stays (error wrapping versions.ErrChanged).
func (k *versionKeeper) removeKept(rel, abs string, st scan.Stat) error {
	if k.store == nil {
		return os.Remove(abs)
	}
	e, err := k.store.Remove(rel, func(fi fs.FileInfo) bool {
		// Not the whole stat: moving the file changed its inode change
		// time (where the stat has one). The caller compared that
		// before the move.
		got := scan.StatOf(fi)
		return got.Size == st.Size && got.ModTime == st.ModTime && got.Inode == st.Inode
	})
	if err != nil {
		return err
	}
	k.log.Debug("kept deleted version", "path", rel, "as", e.File)
	kick(k.kick)
	return nil
}

// loop prunes the kept versions at start, every pruneEvery, and
// pruneDelay after a version was kept.
func (k *versionKeeper) loop(ctx context.Context) error {
	if k.store == nil {
		return nil
	}
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	var soon <-chan time.Time
	k.prune()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			k.prune()
		case <-k.kick:
			if soon == nil {
				soon = time.After(pruneDelay)
			}
		case <-soon:
			soon = nil
			k.prune()
		}
	}
}

func (k *versionKeeper) prune() {
	if paused, _ := k.guard.get(); paused {
		return // not this peer's folder now (doc.go, "Paused")
	}
	res, err := k.store.Prune(time.Now())
	if err != nil {
		k.log.Warn("prune kept versions", "err", err)
	}
	if res.Removed > 0 {
		k.log.Info("pruned kept versions", "removed", res.Removed, "freed", res.Freed,
			"left", res.Kept, "bytes", res.Bytes, "cap", res.Cap)
	}
}
