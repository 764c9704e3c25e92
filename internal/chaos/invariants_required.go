package chaos

import (
	"strconv"
	"strings"
	"time"
)

// required is a version that must be present after the run, and why.
type required struct {
	Write
	why string
}

// faultStarts and faultEnds are the nemesis's event kinds that begin and
// end a fault.
var (
	faultStarts = map[string]bool{"kill": true, "stop": true, "fill": true, "partition": true, "impair": true}
	faultEnds   = map[string]bool{"restart": true, "cont": true, "free": true, "heal": true, "unimpair": true}
)

// settle is how long after a fault ends the cluster is not yet counted as
// quiet (a restarted process reconnects).
const settle = 3 * time.Second

// requiredVersions approximates the versions that were ever the newest
// acknowledged by the tracker (see the invariants' doc comment).
func requiredVersions(h *History, peers int) []required {
	events := h.Events()
	var out []required
	seen := map[string]bool{}
	add := func(w Write, why string) {
		if !seen[w.Hash] {
			seen[w.Hash] = true
			out = append(out, required{w, why})
		}
	}

	// (1) what each user last put in place and kept.
	held := make([]map[string]Write, peers) // per user: path -> its own version there
	for i := range held {
		held[i] = map[string]Write{}
	}
	writer := func(who string) int {
		for i := range peers {
			if who == peerName(i) {
				return i
			}
		}
		return -1
	}
	for i, e := range events {
		p := writer(e.Who)
		if p < 0 {
			continue
		}
		switch e.Kind {
		case "write":
			held[p][e.Path] = Write{Seq: i, At: e.At, Writer: p, Path: e.Path, Hash: e.Hash}
		case "rename", "dirmove":
			for path, w := range held[p] {
				if rest, ok := strings.CutPrefix(path, e.Path); ok && (rest == "" || rest[0] == '/') {
					delete(held[p], path)
					w.Path = e.To + rest
					held[p][w.Path] = w
				}
			}
		case "delete":
			for path, w := range held[p] {
				if path == e.Path || (e.Hash != "" && w.Hash == e.Hash) {
					delete(held[p], path)
				}
			}
		}
	}
	for _, m := range held {
		for _, w := range m {
			add(w, "last put in place by its writer")
		}
	}

	// (2) versions in place for stableWindow while the cluster was quiet.
	type span struct{ from, to time.Duration }
	var quiet []span
	active, since := 0, time.Duration(0)
	end := h.Since()
	for _, e := range events {
		if e.Who != "nemesis" {
			continue
		}
		switch {
		case faultStarts[e.Kind]:
			if active == 0 && e.At > since {
				quiet = append(quiet, span{since, e.At})
			}
			active++
		case faultEnds[e.Kind]:
			active--
			if active == 0 {
				since = e.At + settle
			}
		}
	}
	if active == 0 && end > since {
		quiet = append(quiet, span{since, end})
	}
	isQuiet := func(from, to time.Duration) bool {
		for _, s := range quiet {
			if from >= s.from && to <= s.to {
				return true
			}
		}
		return false
	}
	for i, e := range events {
		p := writer(e.Who)
		if p < 0 || e.Kind != "write" {
			continue
		}
		next := end
		for _, f := range events[i+1:] {
			if f.Who != e.Who {
				continue
			}
			if f.Path == e.Path || strings.HasPrefix(e.Path, f.Path+"/") {
				next = f.At
				break
			}
		}
		if next-e.At >= stableWindow && isQuiet(e.At, e.At+stableWindow) {
			add(Write{Seq: i, At: e.At, Writer: p, Path: e.Path, Hash: e.Hash}, "in place for a quiet while")
		}
	}
	return out
}

// peerName is the name of peer index i.
func peerName(i int) string { return "peer" + strconv.Itoa(i+1) }
