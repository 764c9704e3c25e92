package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/manifest"
	"github.com/fsnotify/fsnotify"
)

// Defaults for Options.
const (
	DefaultDelay        = time.Second
	DefaultRescan       = time.Hour
	DefaultFallbackScan = 30 * time.Second
	DefaultSettle       = 20 * time.Millisecond
)

// hintGrace is how long after a completion hint the ordinary events of the
// same path (fsnotify's queue is read apart from the hints', so a write's
// own event can arrive after its close; cp -p sets times after closing)
// keep the Settle delay instead of the debounce.
const hintGrace = 250 * time.Millisecond

// Options configure a Watcher. Zero values mean the defaults.
type Options struct {
	Delay time.Duration // quiet time before a path is reported
	// Settle is the quiet time after a completion hint (a file closed
	// after writing, or renamed into the folder; Linux only): such a path
	// is reported without waiting for Delay. Negative: no hints.
	Settle       time.Duration
	Rescan       time.Duration // periodic full rescan; negative disables
	FallbackScan time.Duration // full-scan period once the watch limit was hit
	Log          *slog.Logger
	// Skip, if set, names directories (folder-relative) not to watch, nor
	// anything below them: the folder's ignored directories. It is called
	// from New and the Watcher's goroutine; when its answers change, the
	// consumer starts a new Watcher.
	Skip func(dir string) bool
}

// Change says what may have changed: Paths (folder-relative, sorted) or All;
// Root when the folder itself or its state directory (manifest.StateDir,
// where the folder marker lives) was created, removed or renamed.
type Change struct {
	Paths  []string
	All    bool
	Reason string // for All: why a full scan is asked for
	Root   bool
}

// Watcher watches a folder tree. Create it with New; stop it with Close.
type Watcher struct {
	root string
	opt  Options
	log  *slog.Logger
	fsw  *fsnotify.Watcher
	out  chan Change
	stop chan struct{}
	wg   sync.WaitGroup // the run goroutine
	hwg  sync.WaitGroup // the hint reader, ended after run (Close)

	dirs    map[string]bool // watched directories, folder-relative ("" = root)
	limited bool            // the watch limit was hit: poll with FallbackScan

	hints  hintSource     // completion hints (hint_linux.go); nil: none (the Watcher's goroutine)
	hints0 hintSource     // the same as made by New, for Close (a second close is harmless)
	hintWD map[int]string // hint watch descriptor -> directory, folder-relative
	dirWD  map[string]int // the reverse
}

// hintSource tells when a file is complete: closed after writing or
// renamed into a watched directory (hint_linux.go; newHints fails where
// the platform cannot tell). add and remove are called from the Watcher's
// goroutine (and New), run is its own goroutine, ended by close.
type hintSource interface {
	add(dir string) (wd int, err error)
	remove(wd int)
	events() <-chan rawHint
	run(stop <-chan struct{})
	close() error
}

// rawHint is one completion hint: a watch descriptor (of a directory) and
// the name in it.
type rawHint struct {
	wd   int
	name string
}

// New starts watching root and everything below it.
func New(root string, opt Options) (*Watcher, error) {
	if opt.Delay <= 0 {
		opt.Delay = DefaultDelay
	}
	if opt.Rescan == 0 {
		opt.Rescan = DefaultRescan
	}
	if opt.FallbackScan <= 0 {
		opt.FallbackScan = DefaultFallbackScan
	}
	if opt.Settle == 0 {
		opt.Settle = DefaultSettle
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	w := &Watcher{
		root: root, opt: opt, log: opt.Log, fsw: fsw,
		out: make(chan Change), stop: make(chan struct{}),
		dirs: make(map[string]bool), hintWD: make(map[int]string), dirWD: make(map[string]int),
	}
	if opt.Settle > 0 {
		if h, err := newHints(); err == nil {
			w.hints, w.hints0 = h, h
		} else {
			w.log.Debug("no completion hints; every path waits for the debounce", "err", err)
		}
	}
	w.addTree("")
	if h := w.hints; h != nil {
		w.hwg.Add(1)
		go func() {
			defer w.hwg.Done()
			h.run(w.stop)
		}()
	}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// C returns the channel of changes. It is never closed before Close.
func (w *Watcher) C() <-chan Change { return w.out }

// Close stops the watcher and waits for its goroutine.
func (w *Watcher) Close() error {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait() // no more adds or removes of hint watches
	if w.hints0 != nil {
		_ = w.hints0.close() // ends its reader's Read
	}
	w.hwg.Wait()
	return w.fsw.Close()
}

// ignored reports whether rel is the state directory or below it.
func ignored(rel string) bool {
	first, _, _ := strings.Cut(rel, "/")
	return strings.EqualFold(first, manifest.StateDir)
}

func (w *Watcher) rel(abs string) (string, bool) {
	r, ok := folderpath.Rel(w.root, abs)
	if !ok {
		return "", false
	}
	if r == "." {
		return "", true
	}
	return filepath.ToSlash(r), true
}

// addTree watches dir (folder-relative) and every directory below it.
func (w *Watcher) addTree(rel string) {
	start := filepath.Join(w.root, filepath.FromSlash(rel))
	_ = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		r, ok := w.rel(p)
		if !ok || ignored(r) || (r != "" && w.opt.Skip != nil && w.opt.Skip(r)) {
			return filepath.SkipDir
		}
		if w.dirs[r] {
			return nil
		}
		err = w.fsw.Add(p)
		if err != nil && errors.Is(err, syscall.ENOSPC) && w.dropHints() {
			err = w.fsw.Add(p) // the hints' watches are free now
		}
		if err != nil {
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
				if !w.limited {
					w.log.Warn("watch limit reached; falling back to periodic full scans",
						"dir", p, "every", w.opt.FallbackScan, "err", err)
				}
				w.limited = true
				return filepath.SkipAll
			}
			w.log.Debug("watch add failed", "dir", p, "err", err)
			return nil
		}
		w.dirs[r] = true
		w.addHint(p, r)
		return nil
	})
}

// dropHints ends the completion hints when the kernel's watch limit is
// reached: their watches count against it too, and watching every directory
// matters more than reporting some paths sooner. It reports whether there
// were hints to drop.
func (w *Watcher) dropHints() bool {
	if w.hints == nil {
		return false
	}
	w.log.Info("watch limit reached; completion hints off (every path waits for the debounce)")
	_ = w.hints.close() // frees its watches; its reader ends
	w.hints = nil
	clear(w.hintWD)
	clear(w.dirWD)
	return true
}

// addHint watches dir (absolute; rel folder-relative) for completion
// hints too. A directory the hint instance cannot watch (the kernel's watch
// limit) only waits for the debounce.
func (w *Watcher) addHint(dir, rel string) {
	if w.hints == nil {
		return
	}
	wd, err := w.hints.add(dir)
	if err != nil {
		w.log.Debug("no completion hints for a directory", "dir", dir, "err", err)
		return
	}
	if old, ok := w.dirWD[rel]; ok && old != wd {
		delete(w.hintWD, old)
	}
	w.hintWD[wd] = rel
	w.dirWD[rel] = wd
}

// dropTree forgets rel and every watched directory below it.
func (w *Watcher) dropTree(rel string) {
	for d := range w.dirs {
		if d == rel || (rel != "" && strings.HasPrefix(d, rel+"/")) {
			_ = w.fsw.Remove(filepath.Join(w.root, filepath.FromSlash(d)))
			delete(w.dirs, d)
			if wd, ok := w.dirWD[d]; ok {
				delete(w.dirWD, d)
				if w.hintWD[wd] == d { // not a directory renamed to a new name already re-added
					delete(w.hintWD, wd)
					w.hints.remove(wd)
				}
			}
		}
	}
}

func (w *Watcher) run() {
	defer w.wg.Done()
	quiet := newQuietSet(w.opt.Delay, w.opt.Settle)
	defer quiet.stop()
	var outq Change // merged change waiting for the consumer
	var hintC <-chan rawHint
	if w.hints != nil {
		hintC = w.hints.events()
	}
	var rescanC <-chan time.Time
	if w.opt.Rescan > 0 {
		t := time.NewTicker(w.opt.Rescan)
		defer t.Stop()
		rescanC = t.C
	}
	fallback := time.NewTicker(w.opt.FallbackScan)
	defer fallback.Stop()
	all := func(reason string) {
		outq.All = true
		if outq.Reason == "" {
			outq.Reason = reason
		}
	}
	if w.limited {
		all("watch limit reached")
	}

	for {
		var outC chan Change
		if outq.All || len(outq.Paths) > 0 || outq.Root {
			outC = w.out
		}
		select {
		case <-w.stop:
			return
		case outC <- outq:
			outq = Change{}
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			r, ok := w.rel(ev.Name)
			if ok && (r == "" || strings.EqualFold(r, manifest.StateDir)) {
				outq.Root = true // reported at once: the consumer checks its marker
				continue
			}
			if !ok || ignored(r) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := lstat(ev.Name); err == nil && fi.IsDir() {
					before := w.limited
					w.addTree(r)
					if w.limited && !before {
						all("watch limit reached")
					}
				}
			}
			if (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) && w.dirs[r] {
				w.dropTree(r)
			}
			quiet.touch(r, time.Now())
		case h := <-hintC:
			dir, ok := w.hintWD[h.wd]
			if !ok {
				continue // a directory dropped meanwhile
			}
			r := h.name
			if dir != "" {
				r = dir + "/" + h.name
			}
			if ignored(r) {
				continue
			}
			quiet.hint(r, time.Now())
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("watch event queue overflowed; full scan", "err", err)
				all("event overflow")
			} else {
				w.log.Warn("watch error; full scan", "err", err)
				all("watch error")
			}
		case now := <-quiet.C():
			if ps := quiet.ripe(now); len(ps) > 0 {
				outq.Paths = append(outq.Paths, ps...)
				sort.Strings(outq.Paths)
				outq.Paths = dedupSorted(outq.Paths)
			}
		case <-rescanC:
			all("periodic rescan")
		case <-fallback.C:
			if w.limited {
				all("watch limit reached")
			}
		}
	}
}

func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
