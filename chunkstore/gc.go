package chunkstore

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// Partials lists the file IDs of every partial download the store knows of:
// recorded in the database or present as a file in the partial directory
// (open or not), sorted. Use it with DiscardPartial to drop downloads of
// versions that are no longer wanted.
func (s *Store) Partials() ([]manifest.ID, error) {
	recs, err := s.partialRecords()
	if err != nil {
		return nil, err
	}
	files, err := listPartialFiles(s.paths.partDir)
	if err != nil {
		return nil, err
	}
	return unionIDs(recs, files), nil
}

// DiscardPartial deletes the partial download of file ID id (its file and
// records) without opening it; ErrBusy if it is open. Discarding an unknown
// ID is not an error.
func (s *Store) DiscardPartial(id manifest.ID) error {
	_, err := s.discard(id, nil)
	return err
}

// CollectOptions says which partial downloads are still of use (see
// CollectPartials).
type CollectOptions struct {
	// Wants are the file versions still wanted (their file IDs and piece
	// hashes). A partial whose file ID is none of theirs is superseded.
	Wants []manifest.Manifest
	// EachWant, if set, is used instead of Wants, so that the caller can
	// page through its wants instead of holding them all: it calls yield
	// with each wanted version until yield returns false (m is not kept
	// after yield returns). It is called at most twice per collection; an
	// error ends the collection with nothing removed.
	EachWant func(yield func(m *manifest.Manifest) bool) error
	// Pieces, if set, returns the piece list of a want given without one
	// (nil Pieces, Size > 0), one want at a time and only when an
	// abandoned partial may hold pieces a want needs; an error ends the
	// collection with nothing removed.
	Pieces func(m *manifest.Manifest) ([]manifest.Piece, error)
	// MaxAge: a partial in which no piece became durable for this long is
	// stalled. Zero or negative: no partial stalls.
	MaxAge time.Duration
	// Now is the time ages are measured at; zero means time.Now().
	Now time.Time
}

// CollectStats says what one CollectPartials did.
type CollectStats struct {
	Removed int   // abandoned partials deleted (file and records)
	Bytes   int64 // disk space their files took
	Kept    int   // abandoned partials kept: they alone hold pieces a live want needs
	Skipped int   // abandoned partials left alone: open, or written to meanwhile
}

// CollectPartials removes abandoned partial downloads (see the package
// documentation): partials that are superseded (their file ID is none of
// opt.Wants'), stalled (no piece made durable for opt.MaxAge; wanted or
// not), or a record whose file is gone. It never touches an open partial
// (ErrBusy: skipped) nor one whose record changed after it looked (a flush
// meanwhile: skipped). An abandoned partial is kept while it holds the only
// recorded copy of a piece that a live want (a want whose own partial is
// not stalled) needs: the fewest such partials that together hold all those
// pieces are kept, until the wants are applied, dropped or stalled. No
// mutex is held across disk I/O.
func (s *Store) CollectPartials(opt CollectOptions) (CollectStats, error) {
	var st CollectStats
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	recs, err := s.partialRecords()
	if err != nil {
		return st, err
	}
	files, err := listPartialFiles(s.paths.partDir)
	if err != nil {
		return st, err
	}
	wanted := make(map[manifest.ID]bool) // the partials' IDs that are wanted
	err = opt.each(func(m *manifest.Manifest) bool {
		if _, ok := recs[m.ID]; ok {
			wanted[m.ID] = true
		} else if _, ok := files[m.ID]; ok {
			wanted[m.ID] = true
		}
		return true
	})
	if err != nil {
		return st, fmt.Errorf("chunkstore: collect partials: %w", err)
	}
	var garbage []*abandoned
	stalled := make(map[manifest.ID]bool)
	for _, id := range unionIDs(recs, files) {
		r, hasRec := recs[id]
		fi, hasFile := files[id]
		a := &abandoned{id: id, rec: r.raw, ref: r.ref, file: hasFile}
		var progress time.Time
		if hasFile {
			a.usage = diskUsage(fi)
			progress = fi.ModTime() // no time recorded: the file's last write
		}
		if hasRec && r.progress != 0 {
			progress = time.Unix(0, r.progress)
		}
		switch {
		case !hasFile:
			a.why = "record without file"
		case !wanted[id]:
			a.why = "superseded"
		case opt.MaxAge > 0 && now.Sub(progress) >= opt.MaxAge:
			a.why = "stalled"
			stalled[id] = true
		default:
			continue
		}
		garbage = append(garbage, a)
	}
	if len(garbage) == 0 {
		return st, nil
	}
	if err := s.protect(garbage, opt, stalled); err != nil {
		return st, err
	}
	var errs []error
	for _, a := range garbage {
		if a.keep {
			st.Kept++
			s.log.Debug("chunkstore: abandoned partial kept for a wanted version's pieces", "id", a.id.Short(), "why", a.why)
			continue
		}
		expect := a.rec
		removed, err := s.discard(a.id, func(v []byte) bool { return bytes.Equal(v, expect) })
		switch {
		case errors.Is(err, ErrBusy) || (err == nil && !removed):
			st.Skipped++
		case err != nil:
			errs = append(errs, err)
		default:
			st.Removed++
			st.Bytes += a.usage
			s.log.Debug("chunkstore: removed abandoned partial", "id", a.id.Short(), "why", a.why, "bytes", a.usage)
		}
	}
	return st, errors.Join(errs...)
}

// abandoned is a partial that CollectPartials may remove.
type abandoned struct {
	id    manifest.ID
	why   string
	rec   []byte // its record when looked at (nil: none); removed only if unchanged
	ref   uint64 // 0: none
	file  bool   // its file exists
	usage int64  // disk space of its file
	keep  bool   // holds pieces a live want needs that nothing else holds
}

// protect sets keep on the fewest partials of garbage that together hold
// every piece which a live want needs (one of opt.Wants not in stalled)
// and of which no complete file and no partial outside garbage has a
// recorded location.
func (s *Store) protect(garbage []*abandoned, opt CollectOptions, stalled map[manifest.ID]bool) error {
	byRef := make(map[uint64]int) // refs of garbage → index
	for i, a := range garbage {
		if a.ref != 0 {
			byRef[a.ref] = i
		}
	}
	if len(byRef) == 0 {
		return nil
	}
	held := make(map[manifest.ID][]int) // durable pieces of garbage with a file: hash → holders
	err := s.db.view(func(r pebble.Reader) error {
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPieces}, UpperBound: []byte{prefixPieces + 1}})
		if err != nil {
			return err
		}
		defer it.Close()
		for ref, i := range byRef {
			if !garbage[i].file {
				continue // its locations point nowhere
			}
			rv, ok, err := kvstore.Get(r, refKey(ref))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			rec, err := decodeRef(rv)
			if err != nil {
				continue // holds nothing usable
			}
			for _, p := range rec.distinctPrefixes() {
				prefix := pieceRefPrefix(p, ref)
				for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
					if h, _, valid := parsePieceKey(it.Key()); valid && !slices.Contains(held[h], i) {
						held[h] = append(held[h], i)
					}
				}
			}
		}
		return it.Error()
	})
	if err != nil {
		return fmt.Errorf("chunkstore: collect partials: %w", err)
	}
	need := make(map[manifest.ID]bool)
	var perr error
	err = opt.each(func(m *manifest.Manifest) bool {
		if stalled[m.ID] {
			return true // given up on: its pieces protect nothing
		}
		pieces := m.Pieces
		if pieces == nil && m.Size > 0 && opt.Pieces != nil {
			if pieces, perr = opt.Pieces(m); perr != nil {
				perr = fmt.Errorf("pieces of %q: %w", m.Path, perr)
				return false
			}
		}
		for _, p := range pieces {
			if _, ok := held[p.Hash]; ok {
				need[p.Hash] = true
			}
		}
		return true
	})
	if err = errors.Join(err, perr); err != nil {
		return fmt.Errorf("chunkstore: collect partials: %w", err)
	}
	if len(need) == 0 {
		return nil
	}
	uncovered := make(map[manifest.ID]bool)
	err = s.db.view(func(r pebble.Reader) error {
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPieces}, UpperBound: []byte{prefixPieces + 1}})
		if err != nil {
			return err
		}
		defer it.Close()
	hashes:
		for h := range need {
			prefix := append([]byte{prefixPieces}, h[:hashPrefixLen]...)
			for ok := it.SeekGE(prefix); ok && bytes.HasPrefix(it.Key(), prefix); ok = it.Next() {
				kh, ref, valid := parsePieceKey(it.Key())
				if !valid || kh != h {
					continue
				}
				if _, isGarbage := byRef[ref]; isGarbage {
					continue
				}
				if _, ok, err := kvstore.Get(r, refKey(ref)); err != nil {
					return err
				} else if ok {
					continue hashes // a complete file or a partial still in use has it
				}
			}
			uncovered[h] = true
		}
		return it.Error()
	})
	if err != nil {
		return fmt.Errorf("chunkstore: collect partials: %w", err)
	}
	// Greedy cover: keep the partial holding most uncovered pieces, again.
	for len(uncovered) > 0 {
		count := make([]int, len(garbage))
		for h := range uncovered {
			for _, i := range held[h] {
				count[i]++
			}
		}
		best := 0
		for i := range count {
			if count[i] > count[best] {
				best = i
			}
		}
		garbage[best].keep = true
		for h := range uncovered {
			if slices.Contains(held[h], best) {
				delete(uncovered, h)
			}
		}
	}
	return nil
}

// each walks the wanted versions: EachWant if set, else Wants.
func (o *CollectOptions) each(yield func(m *manifest.Manifest) bool) error {
	if o.EachWant != nil {
		return o.EachWant(yield)
	}
	for i := range o.Wants {
		if !yield(&o.Wants[i]) {
			break
		}
	}
	return nil
}
