package chunkstore

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// dirSync makes renames durable (fsyncs of directories) and decides how
// data is (one syncfs or an fsync a file). It remembers which directories'
// own entries are known durable, so that each is fsynced once.
type dirSync struct {
	paths layout
	log   *slog.Logger

	mu sync.Mutex // guards the fields below; never held across I/O
	// durable: directories below the root whose own entry is known
	// durable (their parent was fsynced after they were seen), with what
	// they were then; see syncDirs.
	durable map[string]dirID
	// noSyncFSUntil: CommitBatch.SyncData fsyncs file by file until then
	// (a syncfs was slow: other writers' data on the filesystem).
	noSyncFSUntil time.Time
}

// syncFSAllowed reports whether SyncData may use one syncfs now.
func (ds *dirSync) syncFSAllowed() bool {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return time.Now().After(ds.noSyncFSUntil)
}

// backOffSyncFS makes SyncData fsync file by file for the next period.
func (ds *dirSync) backOffSyncFS(period time.Duration) {
	ds.mu.Lock()
	ds.noSyncFSUntil = time.Now().Add(period)
	ds.mu.Unlock()
}

// syncDirs makes renames into dirs durable: it fsyncs each directory once,
// and the parent of every directory on the way up to the folder root that
// is not yet known durable (a directory created since, whose own entry is
// not durable yet). It returns the directories whose rename may not be
// durable: the directory itself or one of its unsynced parents failed.
func (ds *dirSync) syncDirs(dirs []string) map[string]error {
	type step struct {
		dir string
		id  dirID
	}
	toSync := make(map[string]bool)
	var learned []step                 // directories whose entry the parent's fsync makes durable
	needs := make(map[string][]string) // target dir -> every directory synced for it
	for _, d := range dirs {
		if _, ok := needs[d]; ok {
			continue
		}
		chain := []string{d}
		toSync[d] = true
		for a := d; ; {
			parent := filepath.Dir(a)
			if a == ds.paths.root || parent == a || !ds.paths.inside(a) {
				break
			}
			id, err := statDirID(a)
			if err != nil {
				break // renamed into it just now: the fsync of a reports it
			}
			if ds.knownDurable(a, id) {
				break
			}
			learned = append(learned, step{a, id})
			toSync[parent] = true
			chain = append(chain, parent)
			a = parent
		}
		needs[d] = chain
	}
	var mu sync.Mutex
	errs := make(map[string]error)
	var g errgroup.Group
	g.SetLimit(dirSyncParallel)
	for d := range toSync {
		g.Go(func() error {
			if err := syncDir(d); err != nil {
				mu.Lock()
				errs[d] = err
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through errs
	for _, st := range learned {
		if _, bad := errs[filepath.Dir(st.dir)]; !bad {
			ds.markDurable(st.dir, st.id)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	out := make(map[string]error)
	for d, chain := range needs {
		for _, c := range chain {
			if err, bad := errs[c]; bad {
				out[d] = fmt.Errorf("chunkstore: fsync directory %s: %w", c, err)
				break
			}
		}
	}
	return out
}

// knownDurable reports whether dir's entry in its parent was made durable
// (the parent fsynced after dir was seen) while dir was the directory id.
func (ds *dirSync) knownDurable(dir string, id dirID) bool {
	ds.mu.Lock()
	known, ok := ds.durable[dir]
	ds.mu.Unlock()
	return ok && known.same(id)
}

func (ds *dirSync) markDurable(dir string, id dirID) {
	ds.mu.Lock()
	if ds.durable == nil {
		ds.durable = make(map[string]dirID)
	}
	ds.durable[dir] = id
	ds.mu.Unlock()
}
