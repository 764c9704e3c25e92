package chunkstore

import "sync"

// dirSyncer makes renames into a directory durable with as few directory
// fsyncs as possible: a request waits for one fsync of the directory that
// started after the request was made (so after the caller's rename), and
// requests made while a fsync of that directory runs share the next one
// (group commit, per directory). Many small files committed into one
// directory at once then cost one directory fsync per group, not per file.
type dirSyncer struct {
	mu   sync.Mutex // guards dirs; never held across I/O
	dirs map[string]*dirSync
}

// dirSync is the state of one directory with requests in progress.
type dirSync struct {
	refs int // requests using this entry; guarded by dirSyncer.mu

	// syncMu orders the fsyncs of this directory: one at a time. It guards
	// no state (like Store.commitMu) and is the only lock held across I/O.
	syncMu sync.Mutex

	seqMu     sync.Mutex // guards the fields below; never held across I/O
	requested uint64     // number of the latest request
	completed uint64     // every request up to this number is durable (or failed with err)
	err       error      // result of the fsync that set completed
}

// sync returns once every rename into dir made before the call is durable
// (fsync of dir, shared with concurrent callers).
func (s *dirSyncer) sync(dir string) error {
	s.mu.Lock()
	if s.dirs == nil {
		s.dirs = make(map[string]*dirSync)
	}
	d := s.dirs[dir]
	if d == nil {
		d = &dirSync{}
		s.dirs[dir] = d
	}
	d.refs++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if d.refs--; d.refs == 0 {
			delete(s.dirs, dir)
		}
		s.mu.Unlock()
	}()

	d.seqMu.Lock()
	d.requested++
	want := d.requested
	d.seqMu.Unlock()

	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	d.seqMu.Lock()
	if d.completed >= want { // a fsync that started after our request covered it
		err := d.err
		d.seqMu.Unlock()
		return err
	}
	covers := d.requested // every request so far: their renames are done
	d.seqMu.Unlock()
	err := syncDir(dir)
	d.seqMu.Lock()
	d.completed, d.err = covers, err
	d.seqMu.Unlock()
	return err
}
