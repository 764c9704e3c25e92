package peer

import (
	"context"
	"slices"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/index"
)

// ignoreFirst readies a pull's wants: a new version of the ignore file
// among them is applied first, on its own, and the rules reloaded, so that
// files arriving with it that it names are left alone (another device may
// have reported them before it had the new rules); then the wants of
// ignored paths are dropped (ignoreRules.unignoredWants).
func (p *puller) ignoreFirst(ctx context.Context, wants []index.Want) ([]index.Want, error) {
	if p.ignore == nil {
		return wants, nil
	}
	i := slices.IndexFunc(wants, func(w index.Want) bool {
		m := &w.Manifest
		return m.Path == ignore.FileName && m.Kind == manifest.KindFile && !m.Deleted
	})
	if i < 0 || len(wants) == 1 {
		return p.ignore.unignoredWants(wants), nil
	}
	if ie, ok := p.idx.Get(ignore.FileName); ok && !ie.Manifest.Deleted && ie.Manifest.ID == wants[i].Manifest.ID {
		return p.ignore.unignoredWants(wants), nil // here already: the round finishes it
	}
	r := &round{p: p}
	if err := p.pullFiles(ctx, r, wants[i:i+1]); err != nil {
		return nil, err
	}
	if r.sawEdit {
		kick(p.scanKick)
	}
	if !p.ignore.reload() {
		return p.ignore.unignoredWants(wants), nil
	}
	ws, err := p.idx.Wants()
	if err != nil {
		return nil, err
	}
	return p.ignore.unignoredWants(ws), nil
}
