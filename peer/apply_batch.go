package peer

import (
	"context"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/localapi"
)

// maxApplyBatch bounds how many sealed files one applyBatch renames.
const maxApplyBatch = 256

// readyFile is a fetched, sealed file version waiting to be applied.
type readyFile struct {
	w    index.Want
	part *chunkstore.Partial
	abs  string
}

// applyBatcher applies the sealed files of one pullFiles in batches: each
// batch is whatever is ready when the previous one is done (group commit),
// so its directory fsyncs and chunk store transaction are shared by all its
// files while the fetchers keep going.
type applyBatcher struct {
	a  *applier
	r  *round
	in chan readyFile // closed by the owner when no more files come
}

func newApplyBatcher(a *applier, r *round) *applyBatcher {
	return &applyBatcher{a: a, r: r, in: make(chan readyFile, maxApplyBatch)}
}

// run applies files from in until it is closed and drained. Every file
// sent is applied or closed. It flushes the round every flushEvery applied
// files and returns the first flush error (later batches are still applied,
// and flushed by the caller).
func (ab *applyBatcher) run(ctx context.Context) error {
	var first error
	for f := range ab.in {
		batch := append(make([]readyFile, 0, 64), f)
	more:
		for len(batch) < maxApplyBatch {
			select {
			case f, ok := <-ab.in:
				if !ok {
					break more
				}
				batch = append(batch, f)
			default:
				break more
			}
		}
		ab.a.applyBatch(ab.r, batch)
		if first == nil && ab.r.applied() >= flushEvery {
			first = ab.r.flush(ctx)
		}
	}
	return first
}

// applyBatch puts sealed files in place with the per-file guarantees of
// apply: their data is made durable first (together: see
// chunkstore.CommitBatch.SyncData); each target is checked (still wanted,
// not edited meanwhile) right before its rename; then the renames are made
// durable together (one fsync per directory) and the files indexed in one
// chunk store transaction; only then are they staged in the index and
// noted as owned. A file whose rename may not be durable is applied but not
// announced.
func (a *applier) applyBatch(r *round, batch []readyFile) {
	cb := a.store.NewCommitBatch()
	parts := make([]*chunkstore.Partial, len(batch))
	for i, f := range batch {
		parts[i] = f.part
	}
	synced := cb.SyncData(parts)
	renamed := make([]readyFile, 0, len(batch))
	for i, f := range batch {
		m := &f.w.Manifest
		if err := synced[i]; err != nil {
			r.note(f.w, a.writeFailed(m.Path, "sync", err))
			continue
		}
		if !a.state.beginApply(m.Path) {
			f.part.Close()
			r.note(f.w, retry)
			continue
		}
		if o := a.readyTarget(m, f.abs); o != done {
			a.state.endApply(m.Path)
			f.part.Close()
			r.note(f.w, o)
			continue
		}
		if a.beforeCommit != nil {
			a.beforeCommit(f.abs)
		}
		if err := cb.RenameTo(f.part, f.abs, a.commitTarget(m)); err != nil {
			a.state.endApply(m.Path)
			r.note(f.w, a.commitFailed(m.Path, f.abs, err))
			continue
		}
		renamed = append(renamed, f)
	}
	notDurable := cb.Finish()
	if len(renamed) > 0 {
		a.renamed()
	}
	for _, f := range renamed {
		m := &f.w.Manifest
		a.idx.Stage(index.Entry{Manifest: *m, Stat: a.appliedStat(m, f.abs)})
		a.stats.FilesApplied.Add(1)
		a.state.live.event(localapi.EventApplied, m.Path)
		a.state.endApply(m.Path)
		if err := notDurable[f.abs]; err != nil {
			a.log.Warn("applied, but its rename may not be durable: not announced", "path", m.Path, "err", err)
			r.note(f.w, unowned)
			continue
		}
		a.log.Debug("applied", "path", m.Path, "size", m.Size)
		r.note(f.w, done)
	}
}
