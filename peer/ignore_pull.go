package peer

import (
	"context"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/index"
)

// ignoreFirst readies a pull: a new version of the ignore file among the
// wants is applied first, on its own, and the rules reloaded, so that
// files arriving with it that it names are left alone (another device may
// have reported them before it had the new rules); the round's walks then
// drop the wants of ignored paths (ignoreRules.unignoredWants, per page).
// When the ignore file is the only want, the round applies it like any
// other.
func (p *puller) ignoreFirst(ctx context.Context) error {
	if p.ignore == nil {
		return nil
	}
	id, ok := p.idx.WantID(ignore.FileName)
	if !ok {
		return nil
	}
	w, ok, err := p.idx.Want(ignore.FileName, id)
	if err != nil {
		return err
	}
	if m := &w.Manifest; !ok || m.Kind != manifest.KindFile || m.Deleted {
		return nil
	}
	if ie, ok := p.idx.Get(ignore.FileName); ok && !ie.Manifest.Deleted && ie.Manifest.ID == w.Manifest.ID {
		return nil // here already: the round finishes it
	}
	if first, err := p.idx.WantsPage("", 2); err != nil || len(first) < 2 {
		return err // the only want (or none left)
	}
	r := &round{p: p}
	if err := p.pullFiles(ctx, r, 0, oneBatch([]index.Want{w})); err != nil {
		return err
	}
	if r.sawEdit {
		kick(p.scanKick)
	}
	p.ignore.reload()
	return nil
}
