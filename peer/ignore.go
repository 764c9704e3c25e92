package peer

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/index"
)

// ignoreRules is a folder's ignore matcher (peer/ignore): the built-in
// defaults (unless Config.NoDefaultIgnores) and the folder's ignore file.
// The reporter reloads it before every scan and when the watcher names the
// ignore file, the folder guard before it starts a watcher (and starts a
// new one when a reload changed the rules); the scan, the local diff, the
// watcher, the reporter's event filter, the pull plan and directory
// deletions read the current one. A nil *ignoreRules
// ignores nothing (tests of single parts).
type ignoreRules struct {
	root     string
	defaults bool
	log      *slog.Logger
	cur      atomic.Pointer[ignore.Matcher]
	changed  chan struct{} // kicked when a reload changed the rules

	mu       sync.Mutex // guards warned; never held across the read
	warned   string     // the last read error or problems logged
	reloadMu sync.Mutex // one reload at a time (the read is outside mu)
}

func newIgnoreRules(cfg Config) *ignoreRules {
	r := &ignoreRules{root: cfg.Root, defaults: !cfg.NoDefaultIgnores, log: cfg.Log, changed: make(chan struct{}, 1)}
	m, _ := ignore.New(r.defaults, nil)
	r.cur.Store(m)
	return r
}

// matcher is the current matcher (nil ignores nothing).
func (r *ignoreRules) matcher() *ignore.Matcher {
	if r == nil {
		return nil
	}
	return r.cur.Load()
}

// reload reads the ignore file again and reports whether the rules
// changed. A file too large, not regular or unreadable keeps the rules
// there were (warned once); a missing file leaves the defaults alone.
func (r *ignoreRules) reload() bool {
	if r == nil {
		return false
	}
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	data, err := ignore.Read(r.root)
	if err != nil {
		r.warnOnce(err.Error(), "ignore file not used: the rules stay as they were", "err", err)
		return false
	}
	m, problems := ignore.New(r.defaults, data)
	if m.Same(r.cur.Load()) {
		return false
	}
	r.cur.Store(m)
	kick(r.changed)
	r.log.Info("ignore rules loaded", "file", ignore.FileName, "patterns", m.Len(), "defaults", r.defaults)
	if len(problems) > 0 {
		strs := make([]string, len(problems))
		for i, p := range problems {
			strs[i] = p.String()
		}
		r.warnOnce(string(data), "ignore file: patterns that match nothing", "problems", strs)
	}
	return true
}

// warnOnce logs msg unless key is what was warned about last.
func (r *ignoreRules) warnOnce(key, msg string, args ...any) {
	r.mu.Lock()
	same := r.warned == key
	r.warned = key
	r.mu.Unlock()
	if !same {
		r.log.Warn(msg, args...)
	}
}

// ignored reports whether the folder-relative path is ignored (it or a
// parent directory is excluded).
func (r *ignoreRules) ignored(path string, isDir bool) bool {
	return r.matcher().Ignored(path, isDir)
}

// changes is kicked after a reload that changed the rules (the folder
// guard then starts a new watcher); nil for nil rules (never ready).
func (r *ignoreRules) changes() <-chan struct{} {
	if r == nil {
		return nil
	}
	return r.changed
}

// reloadForWatch reloads the rules before the folder guard starts a
// watcher, which then watches what they leave: a change found here needs
// no restart of that watcher.
func (r *ignoreRules) reloadForWatch() {
	if r.reload() {
		select {
		case <-r.changed:
		default:
		}
	}
}

// skipDir is the watcher's Options.Skip: an ignored directory is not
// watched.
func (r *ignoreRules) skipDir(dir string) bool { return r.ignored(dir, true) }

// namesIgnoreFile reports whether the watcher's paths name the ignore file.
func namesIgnoreFile(paths []string) bool { return slices.Contains(paths, ignore.FileName) }

// unignoredWants drops the wants of ignored paths from a pull: a remote
// version of an ignored path is not fetched, and a remote deletion of one
// does not delete the local file. The wants stay stored: a path that
// becomes un-ignored is pulled then.
func (r *ignoreRules) unignoredWants(ws []index.Want) []index.Want {
	return unignoredWants(r.matcher(), ws)
}

// unignoredWants is ignoreRules.unignoredWants with the rules m.
func unignoredWants(m *ignore.Matcher, ws []index.Want) []index.Want {
	if m.Len() == 0 {
		return ws
	}
	c := m.Checker()
	return slices.DeleteFunc(ws, func(w index.Want) bool {
		return c.Ignored(w.Manifest.Path, w.Manifest.Kind == manifest.KindDir)
	})
}
