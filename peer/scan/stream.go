package scan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultBatch is how many entries plus skipped paths a Batch holds at
// most by default: small enough that a batch and the hashing window stay
// a few hundred KiB, large enough that the per-batch cost (a report, an
// index page) is negligible.
const DefaultBatch = 1024

// Batch is a run of the walk, in walk order: the entries and the skipped
// paths between the previous batch and the next. Every path the walk
// found before the last one of a batch is in that batch or an earlier one.
type Batch struct {
	Entries []Entry
	Skipped []Skip
}

// Len is how many entries and skipped paths the batch holds.
func (b *Batch) Len() int { return len(b.Entries) + len(b.Skipped) }

// Stream walks the folder at root like Scan and gives its entries and
// skipped paths to fn in batches of at most Options.Batch, in walk order,
// while the walk and the hashing go on (bounded: the walk runs at most a
// few batches ahead of fn). fn is called from the goroutine that called
// Stream, never after ctx is done; an error from fn stops the scan and is
// returned. Stream returns
// an error if root cannot be walked or ctx is done; then the batches given
// so far were the walk up to some path, and nothing is known of the rest.
func Stream(ctx context.Context, root string, opt Options, fn func(Batch) error) error {
	if err := opt.check(root); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &scanner{ctx: ctx, root: root, opt: opt,
		slots:  make(chan slot, 2*opt.Batch),
		jobs:   make(chan job),
		notify: make(chan struct{}, 1),
		stats:  newStatPool(opt.StatWorkers - 1),
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(s.slots)
		s.walkErr = s.walk()
	})
	for range s.stats.helpers {
		wg.Go(s.stats.run)
	}
	for range opt.Workers {
		wg.Go(func() {
			for j := range s.jobs {
				j.res <- s.hashJob(j)
			}
		})
	}
	err := s.deliver(fn)
	if err != nil {
		cancel()
		for range s.slots { // let the walk see ctx and end
		}
	}
	wg.Wait() // the walk closed jobs and the stat pool before slots: the workers are done
	if err != nil {
		return err
	}
	if s.walkErr != nil {
		return s.walkErr
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("scan %s: %w", root, cerr)
	}
	return nil
}

// slot is one path of the walk, in walk order: an entry or a skip ready
// now, or a file being hashed whose outcome comes on res.
type slot struct {
	entry Entry
	skip  *Skip
	res   chan event // nil: ready
}

// scanner is the state of one Stream.
type scanner struct {
	ctx  context.Context
	root string
	opt  Options

	slots   chan slot   // walk -> deliver, in walk order
	jobs    chan job    // walk -> hashing workers
	walkErr error       // set by the walk before it closes slots
	stats   *statPool   // the walk's lstats
	levels  []walkLevel // the walk's directories, by depth
	dirBuf  []byte      // the walk's buffer for reading directories

	// notify wakes deliver when a worker has read part of a large file.
	notify chan struct{}
	// Counters shared by the walk, the workers and deliver.
	walked, totalFiles, totalBytes, bytesRead atomic.Int64
	files                                     int64 // hashed files delivered; deliver only
}

// deliver takes the walk's slots in order, waits for each file being
// hashed, and gives batches to fn.
func (s *scanner) deliver(fn func(Batch) error) error {
	var b Batch
	flush := func() error {
		if b.Len() == 0 || s.ctx.Err() != nil {
			return nil // once ctx is done, nothing more is given (Stream returns why)
		}
		out := b
		b = Batch{}
		return fn(out)
	}
	for sl := range s.slots {
		if sl.res != nil {
			ev := s.await(sl.res)
			s.files++
			switch {
			case ev.err != nil, ev.gone:
				sl = slot{} // dropped: vanished, or ctx done
			case ev.skip != "":
				sl = slot{skip: &Skip{Path: sl.entry.Manifest.Path, Reason: ev.skip, Err: ev.skipErr}}
				s.opt.Log.Debug("scan: skipped", "path", sl.skip.Path, "reason", sl.skip.Reason)
			default:
				sl.entry = ev.entry
			}
			s.report()
		}
		switch {
		case sl.skip != nil:
			b.Skipped = append(b.Skipped, *sl.skip)
		case sl.entry.Manifest.Path != "":
			if b.Entries == nil {
				// One allocation of the batch's size (fn keeps the batch it
				// is given): growing it by appending would allocate and
				// copy the entries about twice over.
				b.Entries = make([]Entry, 0, s.opt.Batch)
			}
			b.Entries = append(b.Entries, sl.entry)
		}
		if b.Len() >= s.opt.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if s.walkErr != nil || s.ctx.Err() != nil {
		return nil // Stream returns why
	}
	s.report()
	return flush()
}

// await waits for a hashing outcome, reporting the progress of large
// files meanwhile.
func (s *scanner) await(res <-chan event) event {
	for {
		select {
		case ev := <-res:
			return ev
		case <-s.notify:
			s.report()
		}
	}
}

// report calls Options.Progress.
func (s *scanner) report() {
	if s.opt.Progress == nil {
		return
	}
	s.opt.Progress(Progress{
		Walked: s.walked.Load(), Files: s.files, Bytes: s.bytesRead.Load(),
		TotalFiles: s.totalFiles.Load(), TotalBytes: s.totalBytes.Load(),
	})
}

// send hands one slot (and its hashing job, if any) on, in walk order.
// False if ctx is done.
func (s *scanner) send(sl slot, j *job) bool {
	if j != nil {
		select {
		case s.jobs <- *j:
		case <-s.ctx.Done():
			return false
		}
	}
	select {
	case s.slots <- sl:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// errStop ends the walk when ctx is done while it hands a slot on.
var errStop = errors.New("scan stopped")
