package index

import (
	"encoding/binary"
	"fmt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// Want is an announced version not yet applied, with its owners.
//
// Wants lists them without their piece lists (a head: Manifest.Pieces is
// nil, Pieces says how many there are), so listing every want costs memory
// for its path and IDs only, whatever sizes the tracker announced; Want
// decodes one whole. A want is whole when Manifest.Pieces has Pieces
// entries (always, for directories, tombstones and empty files).
type Want struct {
	Manifest manifest.Manifest
	Owners   []identity.DeviceID
	Seq      uint64
	Pieces   int // piece count of Manifest (0 for a want built whole: see Whole)
}

// Whole reports whether w's manifest has its piece list.
func (w *Want) Whole() bool { return len(w.Manifest.Pieces) == w.Pieces || w.Pieces == 0 }

// Wants returns every stored want, sorted by path (string order), as
// heads: without piece lists (see Want; Want(path) decodes one whole).
//
// Deprecated: it holds every want in memory; walk them with WantsPage.
func (x *Index) Wants() ([]Want, error) {
	var out []Want
	after := ""
	for {
		page, err := x.WantsPage(after, DefaultPage)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		out = append(out, page...)
		after = page[len(page)-1].Manifest.Path
	}
	sortWants(out)
	return out, nil
}

// Want returns the stored want for path, whole (with its piece list), if
// it still is for version id: the one want a pull handles at a time.
func (x *Index) Want(path string, id manifest.ID) (Want, bool, error) {
	if !x.guard.enter() {
		return Want{}, false, ErrClosed
	}
	defer x.guard.exit()
	v, ok, err := kvstore.Get(x.db, pathKey(prefixWants, path))
	if err != nil {
		return Want{}, false, fmt.Errorf("index: want %q: %w", path, err)
	}
	if !ok || len(v) < manifest.IDSize || manifest.ID(v[:manifest.IDSize]) != id {
		return Want{}, false, nil
	}
	w, err := decodeWantRecord(path, v)
	var pieces []byte
	if err == nil && w.Pieces > 0 {
		pieces, err = readPieces(x.db, path, w.Pieces)
	}
	if err == nil {
		w, err = wantWhole(w, pieces)
	}
	if err != nil {
		return Want{}, false, fmt.Errorf("index: want %q: %w", path, err)
	}
	return w, true, nil
}

// WantID returns the file ID of the stored want for path, if any.
func (x *Index) WantID(path string) (manifest.ID, bool) {
	if !x.guard.enter() {
		return manifest.ID{}, false
	}
	defer x.guard.exit()
	v, closer, err := x.db.Get(pathKey(prefixWants, path))
	if err != nil {
		return manifest.ID{}, false
	}
	defer closer.Close()
	if len(v) < manifest.IDSize {
		return manifest.ID{}, false
	}
	return manifest.ID(v[:manifest.IDSize]), true
}

// wantDone reports whether want record v is the one d names.
func wantDone(v []byte, d Done) bool {
	if !d.ID.IsZero() && len(v) >= manifest.IDSize && manifest.ID(v[:manifest.IDSize]) != d.ID {
		return false // a newer version is wanted now
	}
	if d.Before != 0 && len(v) >= manifest.IDSize+8 && binary.LittleEndian.Uint64(v[manifest.IDSize:]) >= d.Before {
		return false // announced after the change that made it obsolete
	}
	return true
}
