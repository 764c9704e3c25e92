package chunkstore

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// Group-commit thresholds: verified pieces become durable once this many
// bytes are pending or this long after the previous flush (checked on each
// WritePiece), and always on Sync, Close and Commit.
const (
	flushBytes    = 32 << 20
	flushInterval = 500 * time.Millisecond
)

// Partial is a download in progress of one file version. See the package
// documentation.
type Partial struct {
	s    *Store
	m    manifest.Manifest // private copy
	path string
	f    *os.File
	dups map[manifest.ID][]int // every index of each hash that occurs more than once

	mu           sync.Mutex // guards the fields below; never held across I/O
	have         bitset     // verified and written
	missing      int
	pending      []int // verified, written, not yet durable
	pendingBytes int64
	lastFlush    time.Time
	closed       bool
	sealed       bool // Seal or SealUnsynced ran: complete, takes no more writes

	// flushMu serializes flushes, Commit and Discard (the fdatasync and the
	// record of one batch); it guards durable and ref and is never taken by
	// Have, Missing or the fast path of WritePiece.
	flushMu  sync.Mutex
	durable  bitset // recorded in the database
	ref      uint64 // 0 until the partial is recorded
	fileDone bool   // f is closed (by a seal, or a failed one)
	synced   bool   // the data is durable (Seal, or CommitBatch.SyncData)
}

// Partial creates, or resumes, the partial download of m (a live file
// manifest). On resume the pieces already in the partial file are re-hashed:
// only pieces whose bytes match are reported present. At most one Partial per
// file ID is open at a time (ErrBusy).
func (s *Store) Partial(m *manifest.Manifest) (*Partial, error) {
	if err := checkFileManifest(m); err != nil {
		return nil, err
	}
	p := &Partial{s: s, m: *m, path: s.paths.partialPath(m.ID)} // shares m.Pieces (see manifest.Manifest)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if _, busy := s.partials[m.ID]; busy {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrBusy, m.ID.Short())
	}
	s.partials[m.ID] = p
	s.mu.Unlock()
	if err := p.open(); err != nil {
		s.forget(p)
		return nil, fmt.Errorf("chunkstore: partial %s (%q): %w", m.ID.Short(), m.Path, err)
	}
	return p, nil
}

func (s *Store) forget(p *Partial) {
	s.mu.Lock()
	if s.partials[p.m.ID] == p {
		delete(s.partials, p.m.ID)
	}
	s.mu.Unlock()
}

func (p *Partial) open() error {
	n := len(p.m.Pieces)
	p.have, p.durable, p.missing, p.lastFlush = newBitset(n), newBitset(n), n, time.Now()
	for _, r := range manifest.Repeats(n, func(k int) *manifest.ID { return &p.m.Pieces[k].Hash }) {
		if p.dups == nil {
			p.dups = make(map[manifest.ID][]int)
		}
		h := p.m.Pieces[r.First].Hash
		if len(p.dups[h]) == 0 {
			p.dups[h] = []int{int(r.First)}
		}
		p.dups[h] = append(p.dups[h], int(r.Pos))
	}
	f, err := os.OpenFile(p.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	p.f = f
	if err := p.resume(); err != nil {
		f.Close()
		return err
	}
	return nil
}

// Path returns the absolute path of the partial file (for setting its mode
// and modification time before Commit).
func (p *Partial) Path() string { return p.path }

// Manifest returns the manifest being downloaded (do not modify it).
func (p *Partial) Manifest() *manifest.Manifest { return &p.m }

// Have reports whether piece i is verified and written.
func (p *Partial) Have(i int) bool {
	if i < 0 || i >= len(p.m.Pieces) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.have.get(i)
}

// Missing returns the indexes of the pieces not yet written, ascending.
func (p *Partial) Missing() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, p.missing)
	for i := range p.m.Pieces {
		if !p.have.get(i) {
			out = append(out, i)
		}
	}
	return out
}

// Complete reports whether every piece is written.
func (p *Partial) Complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.missing == 0
}

// WritePiece verifies that data is piece i (length and BLAKE3 hash; else
// ErrBadPiece, or ErrPieceIndex for an index out of range) and writes it at
// the piece's offset, and at every other missing index with the same hash.
// Writing a piece that is already present does nothing. The piece becomes
// durable at the next flush (see the package documentation).
func (p *Partial) WritePiece(i int, data []byte) error { return p.writePiece(i, data, hashData) }

// WriteVerifiedPiece is WritePiece for a caller that has itself just checked
// manifest.Hash(data) against piece i's hash (the network fetcher does):
// it saves hashing every byte twice. The length is still checked. A caller
// that has not verified data must use WritePiece.
func (p *Partial) WriteVerifiedPiece(i int, data []byte) error {
	return p.writePiece(i, data, callerVerified)
}

// pieceCheck says whether writePiece hashes the data it is given.
type pieceCheck int

const (
	hashData       pieceCheck = iota // WritePiece: verify the hash here
	callerVerified                   // WriteVerifiedPiece: the caller just did
)

func (p *Partial) writePiece(i int, data []byte, check pieceCheck) error {
	n := len(p.m.Pieces)
	if i < 0 || i >= n {
		return fmt.Errorf("%w: %d (file has %d pieces)", ErrPieceIndex, i, n)
	}
	if want := p.m.PieceLen(i); int64(len(data)) != want {
		return fmt.Errorf("%w: piece %d of %q is %d bytes, want %d", ErrBadPiece, i, p.m.Path, len(data), want)
	}
	h := p.m.Pieces[i].Hash
	targets := []int{i}
	p.mu.Lock()
	if p.closed || p.sealed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.have.get(i) {
		p.mu.Unlock()
		return nil
	}
	for _, j := range p.dups[h] {
		if j != i && !p.have.get(j) {
			targets = append(targets, j)
		}
	}
	p.mu.Unlock()

	if check == hashData && manifest.Hash(data) != h {
		return fmt.Errorf("%w: piece %d of %q: hash mismatch", ErrBadPiece, i, p.m.Path)
	}
	for _, j := range targets {
		if err := p.writeAt(data, p.m.PieceOffset(j)); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return ErrClosed
			}
			return fmt.Errorf("chunkstore: write piece %d of %q: %w", j, p.m.Path, err)
		}
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	for _, j := range targets {
		if !p.have.get(j) {
			p.have.set(j)
			p.missing--
			p.pending = append(p.pending, j)
			p.pendingBytes += int64(len(data))
		}
	}
	flush := p.pendingBytes >= flushBytes || time.Since(p.lastFlush) >= flushInterval
	p.mu.Unlock()
	if flush {
		return p.flush()
	}
	return nil
}

// Sync makes every piece written so far durable.
func (p *Partial) Sync() error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return p.flush()
}

// flush makes the pending pieces durable: fdatasync the partial file, then
// record them (and their locations) in one transaction.
func (p *Partial) flush() error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	idx, bytes := p.pending, p.pendingBytes
	p.pending, p.pendingBytes, p.lastFlush = nil, 0, time.Now()
	p.mu.Unlock()
	if len(idx) == 0 {
		return nil
	}
	requeue := func(err error) error {
		p.mu.Lock()
		p.pending = append(p.pending, idx...)
		p.pendingBytes += bytes
		p.mu.Unlock()
		return fmt.Errorf("chunkstore: sync partial %s (%q): %w", p.m.ID.Short(), p.m.Path, err)
	}
	switch {
	case !p.fileDone:
		if err := fdatasync(p.f); err != nil {
			return requeue(err)
		}
	case !p.synced:
		// Sealed without a sync, and closed before CommitBatch.SyncData:
		// nothing is recorded (a resume re-hashes the file).
		return nil
	}
	durable, batch := p.durable.clone(), newBitset(len(p.m.Pieces))
	for _, j := range idx {
		durable.set(j)
		batch.set(j)
	}
	ref, err := p.record(durable, batch.get, time.Now().UnixNano())
	if err != nil {
		return requeue(err)
	}
	p.durable, p.ref = durable, ref
	return nil
}

// record writes the partial record with the durable bitmap, the progress
// time (Unix ns: when pieces last became durable) and the locations of the
// pieces selected by which, creating the ref if needed. Called with flushMu
// held.
func (p *Partial) record(durable bitset, which func(int) bool, progress int64) (uint64, error) {
	var ref uint64
	err := p.s.db.update(func(t *tx) error {
		ref = p.ref
		age := oldRef
		if ref == 0 {
			ref, age = t.newRef(), freshRef
			rec := refRec{kind: kindPartial, name: p.m.ID[:], size: p.m.Size, pieceSize: p.m.PieceSize, prefixes: prefixesOf(&p.m)}
			if err := t.put(refKey(ref), encodeRef(rec)); err != nil {
				return err
			}
		}
		if err := t.put(partialKey(p.m.ID), encodePartialRec(ref, durable, progress)); err != nil {
			return err
		}
		return putPieces(t, ref, &p.m, which, age)
	})
	return ref, err
}

// Close makes the written pieces durable and closes the partial; it stays on
// disk and Store.Partial resumes it.
func (p *Partial) Close() error {
	if err := p.markClosed(); err != nil {
		return err
	}
	defer p.s.forget(p)
	err := p.flush()
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	if p.fileDone {
		return err
	}
	p.fileDone = true
	if cerr := p.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("chunkstore: close partial %q: %w", p.m.Path, cerr)
	}
	return err
}

// markClosed marks p closed, or returns ErrClosed if it already was.
func (p *Partial) markClosed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	return nil
}

// Discard closes the partial and deletes its file and records.
func (p *Partial) Discard() error {
	if err := p.markClosed(); err != nil {
		return err
	}
	defer p.s.forget(p)
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	if !p.fileDone {
		p.fileDone = true
		p.f.Close()
	}
	ref := p.ref
	err := p.s.db.update(func(t *tx) error {
		if err := t.del(partialKey(p.m.ID)); err != nil {
			return err
		}
		if ref == 0 {
			return nil
		}
		return removeRef(t, ref)
	})
	if err != nil {
		return fmt.Errorf("chunkstore: discard partial %q: %w", p.m.Path, err)
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("chunkstore: discard partial %q: %w", p.m.Path, err)
	}
	return nil
}
