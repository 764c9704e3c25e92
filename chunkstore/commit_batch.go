package chunkstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
)

// dirSyncParallel and dataSyncParallel bound the directory and file
// fsyncs in flight at once.
const (
	dirSyncParallel  = 16
	dataSyncParallel = 32
)

// SyncData's choice between one syncfs and an fsync per file.
const (
	syncFSMin     = 4
	syncFSSlow    = 2 * time.Second
	syncFSBackoff = time.Minute
)

// CommitBatch commits many sealed partials at the cost of one fsync per
// target directory and one database transaction for the whole batch,
// instead of both per file. Rename each partial into place, then Finish:
// only after Finish are the renames durable and the files indexed. A batch
// is used by one goroutine.
type CommitBatch struct {
	s       *Store
	renamed []*Partial
	targets []string
	done    bool
}

// NewCommitBatch starts an empty batch.
func (s *Store) NewCommitBatch() *CommitBatch { return &CommitBatch{s: s} }

// SyncData makes the data of sealed partials durable, before they are
// renamed: one syncfs of the filesystem holding the partials when at least
// syncFSMin of them are not durable yet (Linux; far fewer device writes and
// cache flushes than an fsync each), else an fsync of each, in parallel.
// The syncfs also writes other programs' pending data on that filesystem:
// one that takes longer than syncFSSlow turns this to per-file fsyncs for
// syncFSBackoff. It returns an error per partial (nil: durable); a partial
// with an error is closed (resumable) and must not be renamed.
func (b *CommitBatch) SyncData(ps []*Partial) []error {
	errs := make([]error, len(ps))
	var todo []int
	for i, p := range ps {
		p.mu.Lock()
		sealed, closed := p.sealed, p.closed
		p.mu.Unlock()
		p.flushMu.Lock()
		synced := p.synced
		p.flushMu.Unlock()
		switch {
		case closed:
			errs[i] = ErrClosed
		case !sealed:
			errs[i] = fmt.Errorf("chunkstore: sync %q: not sealed", p.m.Path)
		case !synced:
			todo = append(todo, i)
		}
	}
	if len(todo) >= syncFSMin && b.s.dirs.syncFSAllowed() {
		began := time.Now()
		err := syncFS(b.s.paths.partDir)
		if took := time.Since(began); took > syncFSSlow {
			b.s.log.Info("chunkstore: syncfs slow (other data pending on the filesystem); fsyncing file by file for a while",
				"took", took.Round(time.Millisecond))
			b.s.dirs.backOffSyncFS(syncFSBackoff)
		}
		if err == nil {
			for _, i := range todo {
				ps[i].flushMu.Lock()
				ps[i].synced = true
				ps[i].flushMu.Unlock()
			}
			return errs
		}
		if !errors.Is(err, errNoSyncFS) {
			b.s.log.Warn("chunkstore: syncfs failed; fsyncing file by file", "err", err)
		}
	}
	var g errgroup.Group
	g.SetLimit(dataSyncParallel)
	for _, i := range todo {
		g.Go(func() error {
			errs[i] = ps[i].syncSealed()
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through errs
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrClosed) {
			if cerr := ps[i].Close(); cerr != nil && !errors.Is(cerr, ErrClosed) {
				b.s.log.Warn("chunkstore: close partial after failed sync", "file", ps[i].m.Path, "err", cerr)
			}
		}
	}
	return errs
}

// errNoSyncFS: syncFS is not available on this system.
var errNoSyncFS = errors.New("syncfs not supported")

// Rename moves the sealed partial p onto target (an absolute path on the
// same filesystem; a file there is replaced atomically). The rename is not
// durable until Finish. On error p is closed and stays resumable. The
// caller checks the target (not edited meanwhile) right before Rename.
// Rename is RenameTo(p, target, Replace).
func (b *CommitBatch) Rename(p *Partial, target string) error { return b.RenameTo(p, target, Replace) }

// RenameTo is Rename with t saying whether a file at target may be
// replaced (New: it fails with ErrTargetExists if one appeared).
func (b *CommitBatch) RenameTo(p *Partial, target string, t Target) error {
	if b.done {
		return ErrClosed
	}
	p.flushMu.Lock()
	synced := p.synced
	p.flushMu.Unlock()
	if !synced {
		return fmt.Errorf("chunkstore: batch commit of %q: not sealed, or its data not synced", p.m.Path)
	}
	if err := p.markClosed(); err != nil {
		return err
	}
	if err := p.s.renameOrCopy(p.path, target, t); err != nil {
		// Still at its partial path: make it resumable again.
		p.mu.Lock()
		p.closed = false
		p.mu.Unlock()
		if cerr := p.Close(); cerr != nil {
			p.s.log.Warn("chunkstore: close partial after failed rename", "file", p.m.Path, "err", cerr)
		}
		return fmt.Errorf("chunkstore: commit %q to %s: %w", p.m.Path, target, err)
	}
	b.renamed = append(b.renamed, p)
	b.targets = append(b.targets, target)
	return nil
}

// Len returns how many partials were renamed into place so far.
func (b *CommitBatch) Len() int { return len(b.renamed) }

// Finish makes the renames durable: it fsyncs every target directory once
// (and the parents of directories not yet known durable), in parallel. It
// then indexes the committed files in one transaction (a hint: a failure is
// logged, a rescan repairs it) and forgets the partials. It returns, by
// target path, the renames that may not be durable (their directory's
// fsync failed): those files are in place but must not be announced.
func (b *CommitBatch) Finish() map[string]error {
	if b.done {
		return nil
	}
	b.done = true
	defer func() {
		for _, p := range b.renamed {
			p.s.forget(p)
		}
	}()
	if len(b.renamed) == 0 {
		return nil
	}
	dirs := make([]string, len(b.targets))
	for i, t := range b.targets {
		dirs[i] = filepath.Dir(t)
	}
	var notDurable map[string]error
	failed := b.s.dirs.syncDirs(dirs)
	for i, t := range b.targets {
		if err, ok := failed[dirs[i]]; ok {
			if notDurable == nil {
				notDurable = make(map[string]error)
			}
			notDurable[t] = err
		}
	}
	refs := make([]uint64, len(b.renamed))
	for i, p := range b.renamed {
		p.flushMu.Lock()
		refs[i] = p.ref
		p.flushMu.Unlock()
	}
	err := b.s.db.update(func(t *tx) error {
		files, err := lookupFiles(t, committedPaths(b.s.paths, b.targets))
		if err != nil {
			return err
		}
		for i, p := range b.renamed {
			if err := recordCommitted(t, files, b.s.paths, &p.m, b.targets[i], refs[i]); err != nil {
				return fmt.Errorf("%q: %w", p.m.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		b.s.log.Warn("chunkstore: committed files not indexed", "files", len(b.renamed), "err", err)
	}
	return notDurable
}
