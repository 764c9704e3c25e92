package chunkstore

import (
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// resume reconciles the partial file with its record from a previous run:
// every piece the file holds is re-hashed; recorded pieces that do not match
// are dropped, unrecorded pieces that match are adopted (fdatasync, then
// recorded). Afterwards have == durable == the pieces whose bytes match.
func (p *Partial) resume() error {
	n := len(p.m.Pieces)
	var recorded bitset
	var progress int64 // when the recorded pieces became durable
	v, found, err := kvstore.Get(p.s.db, partialKey(p.m.ID))
	if err == nil && found {
		if ref, b, t, derr := decodePartialRec(v, n); derr != nil {
			p.s.log.Warn("chunkstore: ignoring corrupt partial record", "file", p.m.Path, "err", derr)
		} else {
			p.ref, recorded, progress = ref, b, t
		}
	}
	if err != nil {
		return err
	}
	fi, err := p.f.Stat()
	if err != nil {
		return err
	}
	if recorded == nil {
		recorded = newBitset(n)
	}
	if fi.Size() == 0 && p.ref == 0 {
		return nil // a fresh partial
	}
	valid := verifyPieces(p.f, &p.m, fi.Size())
	var dropped, adopted []int
	for i := 0; i < n; i++ {
		switch r, v := recorded.get(i), valid.get(i); {
		case r && !v:
			dropped = append(dropped, i)
		case v && !r:
			adopted = append(adopted, i)
		}
	}
	if len(adopted) > 0 {
		if err := fdatasync(p.f); err != nil {
			return err
		}
	}
	if len(dropped) > 0 {
		p.s.log.Warn("chunkstore: recorded pieces of a partial no longer match; fetching them again",
			"file", p.m.Path, "pieces", len(dropped))
		if err := p.s.db.update(func(t *tx) error {
			for _, i := range dropped {
				if err := t.del(pieceKey(p.m.Pieces[i].Hash, p.ref)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(adopted) > 0 {
		progress = time.Now().UnixNano() // adopted pieces just became durable
	}
	if len(dropped) > 0 || len(adopted) > 0 {
		ref, err := p.record(valid, valid.get, progress)
		if err != nil {
			return err
		}
		p.ref = ref
	}
	p.durable, p.have = valid, valid.clone()
	for i := 0; i < n; i++ {
		if valid.get(i) {
			p.missing--
		}
	}
	return nil
}

// verifyPieces hashes every piece of m that lies inside the first size bytes
// of f, on all cores, and returns the set that matches.
func verifyPieces(f io.ReaderAt, m *manifest.Manifest, size int64) bitset {
	n := len(m.Pieces)
	ok := make([]bool, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, m.PieceSize)
			for i := range jobs {
				l := m.PieceLen(i)
				k, err := f.ReadAt(buf[:l], m.PieceOffset(i))
				if int64(k) == l && (err == nil || err == io.EOF) && manifest.Hash(buf[:l]) == m.Pieces[i].Hash {
					ok[i] = true
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		if m.PieceOffset(i)+m.PieceLen(i) <= size {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()
	valid := newBitset(n)
	for i, v := range ok {
		if v {
			valid.set(i)
		}
	}
	return valid
}
