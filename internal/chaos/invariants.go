package chaos

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The invariants, checked once the workload stopped and every fault is
// healed. Each violation has a kind; a kind listed in Config.Known (the
// -chaos.known flag) is reported without failing the run.
//
//   - converge: every peer's folder equals the others' within
//     Config.Converge (and stays so for a few seconds).
//   - lost: every version that was ever the newest acknowledged by the
//     tracker is present somewhere (a current file, a conflict copy or a
//     kept version in DIR/.dartsync/versions of any peer). "Acknowledged" is
//     approximated (the suite cannot see the tracker's commits): (1) the
//     versions each user last put in place and did not itself replace,
//     delete or rename away (renames and directory moves carry a version to
//     its new path; a delete by any user of a file holding it releases it:
//     a user's delete is not a loss), and (2) every version that stayed in
//     place on its writer for stableWindow while no fault was injected at
//     all (time enough to be reported, acknowledged and fetched).
//   - foreign: no file (current, conflict copy or kept version) holds
//     bytes that no version had; the users' reads check this during the
//     run too, and so does each fill's end on the full peer.
//   - crash: no process exited except where killed or asked to stop; no
//     log holds "panic:", "fatal error:" or "DATA RACE"; a final SIGTERM
//     ends every process cleanly.
//   - temp: no partial or temporary file in a folder (names ".tmp-*",
//     "*.part", "*.tmp").
//   - spurious: no conflict copy holds the content the winning path holds,
//     nor content its device never put at that path (see spurious).
//   - stuck-wants: no peer still fails to fetch a file a few seconds after
//     the folders converged (invariants_stuck.go).
//   - fault: a fault could not be injected or healed.

// stableWindow: a version in place this long with no fault at all was
// acknowledged and reached other peers.
const stableWindow = 8 * time.Second

// violation is one broken invariant.
type violation struct {
	kind, msg string
}

// checkAll checks every invariant but convergence (see converge) on the
// cluster; spurious copies are looked for only in a converged one (a peer
// behind still shows the copy and the old winner).
func checkAll(c *cluster, converged bool) []violation {
	var out []violation
	add := func(kind, format string, args ...any) {
		out = append(out, violation{kind, fmt.Sprintf(format, args...)})
	}
	present := map[string]bool{}
	trees := make([]map[string]string, len(c.peers))
	for i, pp := range c.peers {
		files, err := readFiles(pp.dir)
		if err != nil {
			add("converge", "%s: read folder: %v", pp.name, err)
		}
		trees[i] = files
		kept, err := readVersions(pp.dir)
		if err != nil {
			add("lost", "%s: read kept versions: %v", pp.name, err)
		}
		for rel, h := range files {
			present[h] = true
			if h == "special" {
				add("foreign", "%s: %s is not a regular file", pp.name, rel)
			} else if !c.hist.Known(h) {
				add("foreign", "%s: %s holds bytes no version had (%.12s)", pp.name, rel, h)
			}
			if isTemp(rel) {
				add("temp", "%s: temporary or partial file %s in the folder", pp.name, rel)
			}
		}
		for rel, h := range kept {
			present[h] = true
			if !c.hist.Known(h) && !strings.HasPrefix(filepath.Base(rel), ".tmp-") {
				add("foreign", "%s: kept version %s holds bytes no version had (%.12s)", pp.name, rel, h)
			}
		}
	}
	for _, r := range requiredVersions(c.hist, len(c.peers)) {
		if !present[r.Hash] {
			add("lost", "version %.12s of %s written by peer%d at %.3fs (%s) is nowhere", r.Hash, r.Path, r.Writer+1, r.At.Seconds(), r.why)
		}
	}
	if converged {
		out = append(out, spurious(c, trees[0])...)
	}
	return out
}

// isTemp reports names of partial and temporary files.
func isTemp(rel string) bool {
	b := filepath.Base(rel)
	return strings.HasPrefix(b, ".tmp-") || strings.HasSuffix(b, ".part") || strings.HasSuffix(b, ".tmp")
}

// spurious finds conflict copies that should not exist in the converged
// tree: any copy of a private name (one writer: no real conflict), a copy
// holding what the winning path holds, or a copy named after
// a device that never put that content at that path (it never wrote these
// bytes, nor renamed a file or directory onto the path): the device
// re-reported a version it had received as its own edit (a peer killed
// between applying a file and recording it). Not checked: a copy of a
// device's own earlier version that it replaced itself (the history cannot
// tell it from a copy made by a real conflict before the replacement).
func spurious(c *cluster, files map[string]string) []violation {
	byDevice := map[string]string{}
	for _, pp := range c.peers {
		byDevice[pp.device] = pp.name
	}
	wrote := map[string]bool{}   // who + " " + hash
	renamed := map[string]bool{} // who + " " + target
	for _, e := range c.hist.Events() {
		switch e.Kind {
		case "write":
			wrote[e.Who+" "+e.Hash] = true
		case "rename", "dirmove":
			renamed[e.Who+" "+e.To] = true
		}
	}
	movedOnto := func(who, p string) bool {
		for q := p; q != "." && q != "/" && q != ""; q = path.Dir(q) {
			if renamed[who+" "+q] {
				return true
			}
		}
		return false
	}
	var out []violation
	var names []string
	for rel := range files {
		names = append(names, rel)
	}
	sort.Strings(names)
	for _, rel := range names {
		base, dev, ok := conflictBase(rel)
		if !ok {
			continue
		}
		h, win := files[rel], files[base]
		if o := privateOwner(rel); o != "" {
			first, _ := c.hist.FirstWriter(h)
			out = append(out, violation{"spurious", fmt.Sprintf("%s: a conflict copy of a path only %s writes (it holds %.12s, written by peer%d at %.3fs)",
				rel, o, h, first.Writer+1, first.At.Seconds())})
			continue
		}
		if win == h {
			out = append(out, violation{"spurious", fmt.Sprintf("%s holds what %s holds (%.12s)", rel, base, h)})
			continue
		}
		who, known := byDevice[dev]
		if known && !wrote[who+" "+h] && !movedOnto(who, base) {
			first, _ := c.hist.FirstWriter(h)
			out = append(out, violation{"spurious", fmt.Sprintf("%s is named after %s, which never wrote its content (%.12s, written by peer%d at %.3fs) nor moved a file onto %s",
				rel, who, h, first.Writer+1, first.At.Seconds(), base)})
		}
	}
	return out
}

var panicRE = regexp.MustCompile(`(?m)^(panic:|fatal error:|WARNING: DATA RACE)`)

// checkLogs finds crashes in the processes' logs.
func checkLogs(c *cluster) []violation {
	var out []violation
	for _, p := range c.procs() {
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			out = append(out, violation{"crash", fmt.Sprintf("%s: read log: %v", p.name, err)})
			continue
		}
		if loc := panicRE.FindIndex(b); loc != nil {
			end := min(len(b), loc[0]+2000)
			out = append(out, violation{"crash", fmt.Sprintf("%s: %s", p.name, b[loc[0]:end])})
		}
		for _, cr := range p.crashes {
			out = append(out, violation{"crash", cr})
		}
	}
	return out
}
