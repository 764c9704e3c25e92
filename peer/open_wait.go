package peer

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/peer/index"
)

// openStores opens the index and the chunk store of the folder of cfg.
//
// Opening a store writes: what its log holds not yet in a table goes to
// one. On a full disk that fails (an ENOSPC; the stores' reserve, see
// internal/kvstore, normally pays for it, but a peer stopped while its
// disk was full may have used it). With ctx nil the error is returned;
// otherwise openStores says so once, checks again every Config.FolderPoll
// and opens once the disk has room, or gives up when ctx ends. A full
// disk is a state to wait out, as it is for a running folder (doc.go,
// "Write faults"), not a reason to exit: a service manager would restart
// the peer into the same failure.
func (d *Daemon) openStores(ctx context.Context, cfg Config) (*index.Index, *chunkstore.Store, error) {
	waited := time.Time{}
	for {
		idx, store, err := openStoresOnce(d.cache, cfg)
		if err == nil {
			if !waited.IsZero() {
				cfg.Log.Info("the disk has room again: the folder's state is open", "state", cfg.StateDir,
					"waited", time.Since(waited).Round(time.Second))
			}
			return idx, store, nil
		}
		if ctx == nil || !errors.Is(err, syscall.ENOSPC) {
			return nil, nil, err
		}
		if waited.IsZero() {
			waited = time.Now()
			cfg.Log.Warn("cannot open the folder's state: its disk is full; waiting for room", "state", cfg.StateDir, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(cfg.FolderPoll):
		}
	}
}

func openStoresOnce(cache *pebble.Cache, cfg Config) (*index.Index, *chunkstore.Store, error) {
	idx, err := index.OpenWith(cfg.StateDir, kvstore.Options{Cache: cache, MemTableSize: index.MemTableSize})
	if err != nil {
		return nil, nil, err
	}
	store, err := chunkstore.OpenOptions(cfg.Root, cfg.StateDir, chunkstore.Options{Log: cfg.Log, Cache: cache})
	if err != nil {
		idx.Close()
		return nil, nil, fmt.Errorf("peer: %w", err)
	}
	return idx, store, nil
}
