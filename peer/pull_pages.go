package peer

import (
	"context"
	"strings"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/index"
)

// A pull round walks the stored wants a page at a time (index.WantsPage,
// walk order), never the whole list at once: it holds one page of heads,
// the files in flight and, for moves, a window of tombstones. The order of
// decide.Wants is kept across pages by walking the wants once per phase:
// directories (parents first: walk order), moves, new paths, updates,
// then deletions (files, then directories deepest first, one walk per
// depth). Each phase classifies a page with decide.Wants against the index
// as it is then; a want that changes phase meanwhile (the scan indexed its
// path) waits for the next round, which the scan's report brings.

// moveWindow is how many pages of possible move sources (file tombstones
// with a base) a round matches the new paths against at once.
const moveWindow = 8

// wantSource yields the next batch of wants to handle; an empty batch
// means there are no more.
type wantSource func(ctx context.Context) ([]index.Want, error)

// wantCursor walks the stored wants in pages and yields, of each page, the
// wants pick selects from the page's plan (decide.Wants over the unignored
// wants of the page).
type wantCursor struct {
	p     *puller
	after string // last path seen
	done  bool   // the last page was read
	pick  func(plan *decide.WantPlan) []index.Want
}

func (p *puller) cursor(pick func(plan *decide.WantPlan) []index.Want) *wantCursor {
	return &wantCursor{p: p, pick: pick}
}

// next returns the next non-empty selection, or none at the end.
func (c *wantCursor) next(ctx context.Context) ([]index.Want, error) {
	for !c.done {
		got, err := c.page(ctx)
		if err != nil || len(got) > 0 {
			return got, err
		}
	}
	return nil, nil
}

// page reads one page and returns what pick selects of it (maybe nothing).
func (c *wantCursor) page(ctx context.Context) ([]index.Want, error) {
	if c.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := c.p.pageSize()
	page, err := c.p.idx.WantsPage(c.after, n)
	if err != nil {
		return nil, err
	}
	if len(page) < n {
		c.done = true
	}
	if len(page) == 0 {
		return nil, nil
	}
	c.after = page[len(page)-1].Manifest.Path
	if c.p.ignore != nil {
		page = c.p.ignore.unignoredWants(page) // ignore.go
	}
	plan := decide.Wants(page, c.p.idx.Get)
	return c.pick(&plan), nil
}

// source is the cursor as a wantSource.
func (c *wantCursor) source() wantSource { return c.next }

func (p *puller) pageSize() int {
	if p.page > 0 {
		return p.page
	}
	return index.DefaultPage
}

// roundSum is what the first walk of a round found to do.
type roundSum struct {
	wants               int // unignored wants
	adds, updates, dels int
	small               int // adds and updates of at most one piece
	moveSources         int // file tombstones with a base
	dirDepth            int // 1 + the deepest directory tombstone's depth; 0: none
	dirs, finished      int
}

// pullDirs is a round's first walk: it finishes the wants already applied,
// drops invalid paths, applies the directories (a parent before what it
// holds) and counts what the later phases have to do. start is called
// before the first want is handled.
func (p *puller) pullDirs(ctx context.Context, r *round, start func()) (roundSum, error) {
	var s roundSum
	c := p.cursor(func(plan *decide.WantPlan) []index.Want {
		n := len(plan.Finished) + len(plan.Dels) + len(plan.Dirs) + len(plan.Adds) + len(plan.Updates)
		if n == 0 {
			return nil
		}
		start()
		s.wants += n
		for _, path := range plan.Invalid {
			p.log.Warn("ignoring invalid path from tracker", "path", path)
		}
		r.finish(plan.Finished...)
		s.finished += len(plan.Finished)
		s.dirs += len(plan.Dirs)
		s.adds += len(plan.Adds)
		s.updates += len(plan.Updates)
		s.dels += len(plan.Dels)
		for _, ws := range [][]index.Want{plan.Adds, plan.Updates} {
			for i := range ws {
				if pieceCount(&ws[i]) <= 1 {
					s.small++
				}
			}
		}
		for _, t := range plan.Dels {
			switch {
			case t.Manifest.Kind == manifest.KindDir:
				s.dirDepth = max(s.dirDepth, depth(t.Manifest.Path)+1)
			case !t.Manifest.Base.IsZero():
				s.moveSources++
			}
		}
		// Wants whose write failed wait their backoff (write_faults.go).
		return r.due(plan.Dirs)
	})
	for !c.done {
		dirs, err := c.page(ctx)
		if err != nil {
			return s, err
		}
		for _, w := range dirs {
			r.note(w, p.apply.applyDir(r, w, p.addsWithID))
		}
		// Per page: what the round holds to record stays one page's worth.
		if r.applied() > 0 {
			if err := r.flush(ctx); err != nil {
				return s, err
			}
		}
	}
	return s, r.flush(ctx)
}

// addsWithID returns the new paths wanted with file ID id (a file's
// conflict copy, which a directory taking its name may set it aside to:
// applier.applyDir). It walks every want; a directory replaces a synced
// file rarely.
func (p *puller) addsWithID(id manifest.ID) []index.Want {
	var out []index.Want
	c := p.cursor(func(plan *decide.WantPlan) []index.Want {
		for _, w := range plan.Adds {
			if w.Manifest.ID == id && w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted && p.state.faults.due(w.Manifest.Path) {
				out = append(out, w)
			}
		}
		return nil
	})
	if _, err := c.next(context.Background()); err != nil {
		p.log.Warn("read wants", "err", err)
	}
	return out
}

// pullMoves applies as renames the new paths that move a file this peer
// has (decide.MoveFrom), before any file is fetched: the possible sources
// (file tombstones with a base) are gathered moveWindow pages at a time, and
// every new path is matched against each window. The new paths it does
// not move are left to the adds phase, the tombstones to the deletions.
func (p *puller) pullMoves(ctx context.Context, r *round) error {
	tombs := p.cursor(func(plan *decide.WantPlan) []index.Want {
		var out []index.Want
		for _, t := range plan.Dels {
			if t.Manifest.Kind == manifest.KindFile && !t.Manifest.Base.IsZero() && p.state.faults.due(t.Manifest.Path) {
				out = append(out, t)
			}
		}
		return out
	})
	for {
		var dels []index.Want
		for len(dels) < moveWindow*p.pageSize() {
			ws, err := tombs.next(ctx)
			if err != nil {
				return err
			}
			if len(ws) == 0 {
				break
			}
			dels = append(dels, ws...)
		}
		if len(dels) == 0 {
			return nil
		}
		moved := make(map[int]bool)
		adds := p.cursor(func(plan *decide.WantPlan) []index.Want {
			var out []index.Want
			for _, w := range plan.Adds {
				if p.state.faults.due(w.Manifest.Path) {
					out = append(out, w)
				}
			}
			return p.unapplied(out)
		})
		for {
			ws, err := adds.next(ctx)
			if err != nil {
				return err
			}
			if len(ws) == 0 {
				break
			}
			p.moves(r, ws, dels, moved)
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
		if tombs.done {
			return nil
		}
	}
}

// addsSource yields the round's new paths not applied yet.
func (p *puller) addsSource(r *round) wantSource {
	return p.cursor(func(plan *decide.WantPlan) []index.Want { return p.unapplied(r.due(plan.Adds)) }).source()
}

// updatesSource yields the round's new versions of indexed files.
func (p *puller) updatesSource(r *round) wantSource {
	return p.cursor(func(plan *decide.WantPlan) []index.Want { return r.due(plan.Updates) }).source()
}

// pullDeletes applies the deletions: the files' first, then the
// directories', deepest first (one walk per depth, from dirDepth-1 up), so
// that a directory goes after what it held.
func (p *puller) pullDeletes(ctx context.Context, r *round, dirDepth int) error {
	files := p.cursor(func(plan *decide.WantPlan) []index.Want {
		var out []index.Want
		for _, t := range plan.Dels {
			if t.Manifest.Kind != manifest.KindDir {
				out = append(out, t)
			}
		}
		return r.due(out)
	})
	if err := p.deleteAll(ctx, r, files); err != nil {
		return err
	}
	for d := dirDepth - 1; d >= 0; d-- {
		dirs := p.cursor(func(plan *decide.WantPlan) []index.Want {
			var out []index.Want
			for _, t := range plan.Dels {
				if t.Manifest.Kind == manifest.KindDir && depth(t.Manifest.Path) == d {
					out = append(out, t)
				}
			}
			return r.due(out)
		})
		if err := p.deleteAll(ctx, r, dirs); err != nil {
			return err
		}
	}
	return nil
}

// deleteAll applies the deletions c yields, flushing after each page.
func (p *puller) deleteAll(ctx context.Context, r *round, c *wantCursor) error {
	for {
		ws, err := c.next(ctx)
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			return nil
		}
		for _, w := range ws {
			r.note(w, p.apply.applyDelete(w))
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
	}
}

// depth is how many directories path is below the folder's root.
func depth(path string) int { return strings.Count(path, "/") }

// oneBatch is a wantSource of ws alone.
func oneBatch(ws []index.Want) wantSource {
	return func(context.Context) ([]index.Want, error) {
		out := ws
		ws = nil
		return out, nil
	}
}
