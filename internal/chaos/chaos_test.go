package chaos

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The suite's flags (go test ./internal/chaos -run TestChaos -chaos.budget 2m).
var (
	flagBudget  = flag.Duration("chaos.budget", 0, "run the chaos suite: workload and faults for this long (0: skip unless DARTSYNC_CHAOS is set)")
	flagSeed    = flag.Int64("chaos.seed", 0, "seed of the run (0: from the clock, printed)")
	flagPeers   = flag.Int("chaos.peers", 4, "number of peers (at least 4)")
	flagKnown   = flag.String("chaos.known", "", "comma-separated violation kinds reported without failing (known issues: spurious, ...)")
	flagKeep    = flag.String("chaos.keep", "", "keep the run's folders, logs and history in this directory")
	flagFaults  = flag.String("chaos.faults", "", "comma-separated fault kinds to inject (kill, stop, fill, partition, impair; empty: all)")
	flagNoFault = flag.Bool("chaos.nofaults", false, "the workload alone, no faults (a baseline)")
	flagBound   = flag.Duration("chaos.converge", 3*time.Minute, "bound for convergence after the faults are healed")
)

// TestChaos runs the chaos suite once (see doc.go); it is skipped unless
// -chaos.budget is given or DARTSYNC_CHAOS is set (to a budget, or to
// anything for 2 minutes).
func TestChaos(t *testing.T) {
	budget := *flagBudget
	if env := os.Getenv("DARTSYNC_CHAOS"); budget == 0 && env != "" {
		budget = 2 * time.Minute
		if d, err := time.ParseDuration(env); err == nil {
			budget = d
		}
	}
	if budget == 0 {
		t.Skip("chaos suite: give -chaos.budget or set DARTSYNC_CHAOS (make chaos)")
	}
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000_000
	}
	dir, err := runDir(t)
	if err != nil {
		t.Fatal(err)
	}
	known, faults := set(*flagKnown), set(*flagFaults)
	if len(faults) == 0 {
		faults = nil // all
	}
	t.Logf("chaos: seed %d, budget %v, %d peers, dir %s (replay: -chaos.seed %d)", seed, budget, *flagPeers, dir, seed)
	res, err := Run(context.Background(), Config{
		Budget: budget, Seed: seed, Peers: *flagPeers, Dir: dir, Converge: *flagBound, Known: known, Logf: t.Logf,
		NoFaults: *flagNoFault, Faults: faults,
	})
	t.Logf("chaos: network %s, %d versions written, faults: %s, converged after %v, %d conflict copies, %d disk-full log lines",
		res.Network, res.Versions, res.Faults, res.Converged.Round(time.Millisecond), res.Conflicts, res.NoSpace)
	for _, v := range res.Violations {
		mark := "FAIL"
		if known[v.kind] {
			mark = "known"
		}
		t.Logf("chaos: %s %s: %s", mark, v.kind, v.msg)
	}
	if err != nil {
		t.Fatalf("chaos: seed %d: %v", seed, err)
	}
	if res.Failed {
		b, _ := os.ReadFile(res.History)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("chaos: history tail (all of it in %s):\n%s", res.History, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		t.Fatalf("chaos: seed %d failed (replay: go test ./internal/chaos -run TestChaos -chaos.budget %v -chaos.seed %d); history in %s",
			seed, budget, seed, res.History)
	}
}

// runDir makes the run's directory: under -chaos.keep if given (kept),
// else a temporary one that is removed only if the test passes, so that a
// failed run's folders, logs and history can be read afterwards.
func runDir(t *testing.T) (string, error) {
	if *flagKeep != "" {
		dir := filepath.Join(*flagKeep, "chaos-"+time.Now().UTC().Format("20060102-150405"))
		return dir, os.MkdirAll(dir, 0o755)
	}
	dir, err := os.MkdirTemp("", "dartsync-chaos-")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chaos: the failed run's folders, logs and history are kept in %s", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("chaos: remove %s: %v", dir, err)
		}
	})
	return dir, nil
}

// set is a comma-separated list as a set.
func set(list string) map[string]bool {
	out := map[string]bool{}
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out[k] = true
		}
	}
	return out
}
