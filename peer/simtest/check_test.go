package simtest

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/dartsync/dartsync/peer/versions"
)

// tree maps the folder-relative paths of a folder (.dartsync excluded) to
// "dir" or the sum of the file's content.
func tree(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case rel == ".dartsync":
			return filepath.SkipDir
		case d.IsDir():
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = sum(b)
		return nil
	})
	return out, err
}

// treeDiff explains how got differs from want ("" if equal).
func treeDiff(got, want map[string]string) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "missing "+p)
		} else if g != w {
			lines = append(lines, fmt.Sprintf("%s: %s, want %s", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "extra "+p)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// progress is what moves while the peers still work.
type progress struct {
	trees []map[string]string
	stats [][7]int64
}

func (r *run) observe() (progress, error) {
	var pr progress
	for _, p := range r.peers {
		tr, err := tree(p.root)
		if err != nil {
			return pr, err
		}
		s := p.d.Stats()
		pr.trees = append(pr.trees, tr)
		pr.stats = append(pr.stats, [7]int64{s.FilesApplied, s.FilesDeleted, s.LocalChanges, s.Conflicts,
			s.PendingWants, s.Reannounces, int64(s.Seq)})
	}
	return pr, nil
}

// stuckAfter is how long identical, unchanging folders with pending wants
// are waited on before the wants are taken for stuck.
const stuckAfter = 10 * time.Second

// quiesce waits until every folder is identical, no peer has pending wants,
// and nothing changed for st.settle (doc.go, "Quiescence").
func (r *run) quiesce() {
	start := time.Now()
	deadline := start.Add(r.st.quiet)
	var last progress
	var since time.Time
	why := ""
	for {
		r.checkAlive()
		if r.t.Failed() {
			return
		}
		pr, err := r.observe()
		why = ""
		pending := ""
		if err != nil {
			why = err.Error()
		}
		for i := 1; i < len(pr.trees) && why == ""; i++ {
			if d := treeDiff(pr.trees[i], pr.trees[0]); d != "" {
				why = fmt.Sprintf("%s differs from %s: %s", r.peers[i].name, r.peers[0].name, d)
			}
		}
		for i, s := range pr.stats {
			if s[4] != 0 {
				pending += fmt.Sprintf(" %s: %d;", r.peers[i].name, s[4])
			}
		}
		switch {
		case why != "":
			since = time.Time{}
		case since.IsZero() || !reflect.DeepEqual(pr, last):
			since = time.Now()
		case pending == "" && time.Since(since) >= r.st.settle:
			r.logf("-", "quiescent after %.1fs", time.Since(start).Seconds())
			return
		case pending != "" && time.Since(since) >= stuckAfter:
			// Identical folders, nothing moving, and wants that stay:
			// versions no peer can fetch. Checked on, reported after.
			r.stuck = "pending wants that never go:" + pending
			r.logf("-", "identical after %.1fs but %s", time.Since(start).Seconds(), r.stuck)
			return
		}
		if why == "" && pending != "" {
			why = "pending wants:" + pending
		}
		last = pr
		if time.Now().After(deadline) {
			r.t.Errorf("no quiescence in %v: %s; stats (applied, deleted, local, conflicts, pending, reannounces, seq): %v",
				r.st.quiet, why, last.stats)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// place is where some content was found.
type place struct {
	peer int
	kind string // "current" or "versions"
	path string
}

// conflictOf reports whether q is a conflict copy of p (or of one of p's
// conflict copies): NAME.sync-conflict-...EXT, or NAME.sync-conflict-...EXT-n
// when that name was taken, in p's directory.
func conflictOf(q, p string) bool {
	if path.Dir(q) != path.Dir(p) {
		return false
	}
	base := path.Base(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	qb := path.Base(q)
	if i := strings.LastIndexByte(qb, '-'); i > 0 && strings.Trim(qb[i+1:], "0123456789") == "" && !strings.HasSuffix(qb, ext) {
		qb = qb[:i] // the n-th candidate of a taken name: NAME.sync-conflict-...EXT-n
	}
	return strings.HasPrefix(qb, stem+".sync-conflict-") && strings.HasSuffix(qb, ext)
}

// check runs the invariants of doc.go after quiescence (the first, identical
// folders, is quiescence itself).
func (r *run) check() {
	found := map[string][]place{}
	var final map[string]string
	for _, p := range r.peers {
		tr, err := tree(p.root)
		if err != nil {
			r.t.Fatal(err)
		}
		final = tr
		for rel, s := range tr {
			found[s] = append(found[s], place{p.idx, "current", rel})
		}
		kept, err := versions.Open(p.root, versions.Options{}).List("")
		if err != nil {
			r.t.Fatalf("%s: list versions: %v", p.name, err)
		}
		for _, e := range kept {
			b, err := os.ReadFile(e.File)
			if err != nil {
				r.t.Fatalf("%s: read kept version: %v", p.name, err)
			}
			found[sum(b)] = append(found[sum(b)], place{p.idx, "versions", e.Path})
		}
	}
	r.checkVersions(found)
	r.checkNewest(final)
}

// checkVersions: every version that could sync is found (doc.go, 2).
func (r *run) checkVersions(found map[string][]place) {
	counts := map[string]int{}
	for _, v := range r.book.versions {
		paths := r.book.lineage(v.path, v.start)
		if !r.required(v, paths) {
			counts["exempt"]++
			continue
		}
		how := ""
		for _, pl := range found[v.sum] {
			kind := ""
			if paths[pl.path] {
				kind = pl.kind
			}
			for c := range paths {
				if kind == "" && conflictOf(pl.path, c) {
					kind = "conflict copy"
				}
			}
			if rank(kind) > rank(how) {
				how = kind
			}
		}
		if how == "" {
			r.t.Errorf("lost: %s's version of %s (%d B %s, written at op %d, kept by its author %s): not current, not a conflict copy, not in versions/ (this content is at %v)",
				r.peers[v.peer].name, v.path, v.size, v.sum, v.op, r.lifetime(v), found[v.sum])
			continue
		}
		counts[how]++
	}
	r.logf("-", "versions written %d: %v", len(r.book.versions), counts)
	r.summary = fmt.Sprintf("%d versions written: %v", len(r.book.versions), counts)
}

// rank orders the ways a version is found: current, then conflict copy,
// then kept in versions.
func rank(how string) int {
	switch how {
	case "current":
		return 3
	case "conflict copy":
		return 2
	case "versions":
		return 1
	}
	return 0
}

// required tells whether v could sync (doc.go, "Could sync"): some copy of
// it was replaced only by a remote change, or could have been.
func (r *run) required(v *version, paths map[string]bool) bool {
	var gone time.Time // the first local replacement of v anywhere
	holders := map[int]bool{}
	for _, x := range r.book.replaced {
		if x.sum != v.sum || !paths[x.path] || x.at.Before(v.start) {
			continue
		}
		holders[x.peer] = true
		if gone.IsZero() || x.at.Before(gone) {
			gone = x.at
		}
	}
	if !holders[v.peer] {
		return true // its author's copy was never replaced locally
	}
	for q := range r.peers {
		if q == v.peer || holders[q] {
			continue
		}
		stretch := r.tl.longest(v.start, gone, func(up map[int]bool) bool {
			return up[trackerWho] && up[v.peer] && up[q]
		})
		if stretch >= r.st.window {
			return true
		}
	}
	return false
}

func (r *run) lifetime(v *version) string {
	if v.end.IsZero() {
		return "to the end"
	}
	return fmt.Sprintf("%.3fs to %.3fs", v.start.Sub(r.begin).Seconds(), v.end.Sub(r.begin).Seconds())
}

// checkNewest: a path whose last operation was settled ends as that
// operation left it (doc.go, 3).
func (r *run) checkNewest(final map[string]string) {
	settled := 0
	for rel, ops := range r.book.ops {
		last := ops[len(ops)-1]
		ok := true
		for _, e := range ops[:len(ops)-1] {
			if e.peer == last.peer {
				continue
			}
			stretch := r.tl.longest(e.at, last.at, func(up map[int]bool) bool {
				return up[trackerWho] && up[e.peer] && up[last.peer]
			})
			if stretch < r.st.window {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		settled++
		got, want := final[rel], last.sum
		if got != want {
			r.t.Errorf("newest lost: %s is %q, want %q as left by op %d (%s)", rel, got, want, last.op, r.peers[last.peer].name)
		}
	}
	r.logf("-", "paths whose last operation was settled: %d of %d", settled, len(r.book.ops))
	r.t.Logf("seed %d: %d operations in %.1fs; %s; newest checked on %d of %d paths",
		r.seed, len(r.log), time.Since(r.begin).Seconds(), r.summary, settled, len(r.book.ops))
}
