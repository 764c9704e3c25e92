package peer

import (
	"sync"

	"github.com/dartsync/dartsync/peer/localapi"
)

// stop pauses the folder for good (until the peer restarts): its guard
// loop failed (the watcher could not start) while other folders run.
func (g *folderGuard) stop(why string) {
	g.mu.Lock()
	g.stopped = why
	g.mu.Unlock()
	g.check()
}

// refusals are the daemon's folders the tracker refuses: when it refuses
// every one, the daemon has nothing to sync and Run ends with the refusal.
type refusals struct {
	mu      sync.Mutex
	folders int
	names   map[string]bool
}

func newRefusals(folders int) *refusals {
	return &refusals{folders: folders, names: make(map[string]bool)}
}

// set records whether folder name is refused; it reports whether every
// folder is.
func (r *refusals) set(name string, refused bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if refused {
		r.names[name] = true
	} else {
		delete(r.names, name)
	}
	return len(r.names) == r.folders
}

// controlPath is the local API endpoint written in the marker.
func (g *folderGuard) controlPath() string {
	if g.control != "" {
		return g.control
	}
	return localapi.ControlPath(g.stateDir)
}

// refused records the tracker's refusal of the folder (why), or its end
// (""), and checks the folder again. It reports whether the tracker now
// refuses every folder of the daemon. Safe on a nil guard (unit tests).
func (g *folderGuard) refused(why string) (all bool) {
	if g == nil {
		return false
	}
	g.mu.Lock()
	changed := g.refusal != why
	g.refusal = why
	g.mu.Unlock()
	if g.refusals != nil {
		all = g.refusals.set(g.name, why != "")
	}
	if changed && g.guarded {
		g.check()
	}
	return all
}
