package chaos

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// stuckWants finds the files the peers still fail to fetch after the
// folders converged (kind "stuck-wants": a want that retries forever, for
// instance a conflict copy that every owner overwrote before building it).
// It reads the WARN "fetch" lines logged since since.
func stuckWants(c *cluster, since time.Time) []violation {
	var out []violation
	for _, pp := range c.peers {
		b, err := os.ReadFile(pp.logPath)
		if err != nil {
			continue
		}
		paths := map[string]int{}
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.Contains(l, "level=WARN msg=fetch ") {
				continue
			}
			ts, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || at.Before(since) {
				continue
			}
			if i := strings.Index(l, " path="); i >= 0 {
				p, _, _ := strings.Cut(l[i+len(" path="):], " err=")
				paths[p]++
			}
		}
		var names []string
		for p, n := range paths {
			names = append(names, fmt.Sprintf("%s (%d times)", p, n))
		}
		sort.Strings(names)
		if len(names) > 0 {
			out = append(out, violation{"stuck-wants", fmt.Sprintf("%s still fails to fetch after convergence: %s", pp.name, strings.Join(names, ", "))})
		}
	}
	return out
}
