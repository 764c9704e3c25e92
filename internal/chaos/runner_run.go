package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Result is what a run found.
type Result struct {
	Network    string      // "lan" or "loopback"
	Faults     string      // faults injected by kind ("kill=12 stop=4 ...")
	Violations []violation // every broken invariant
	Failed     bool        // a violation of a kind not in Config.Known
	History    string      // the history file
	Converged  time.Duration
	Versions   int // versions written
	Conflicts  int // conflict copies in the first peer's folder at the end
	NoSpace    int // log lines of the tmpfs peers that name a full disk
}

// Run runs the suite once: build, start, workload and nemesis for
// cfg.Budget, heal, converge, check.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.Peers < 4 {
		cfg.Peers = 4
	}
	if cfg.Converge == 0 {
		cfg.Converge = 3 * time.Minute
	}
	hist := NewHistory()
	res.History = filepath.Join(cfg.Dir, "history.txt")
	defer func() {
		if f, ferr := os.Create(res.History); ferr == nil {
			_ = hist.Dump(f)
			_ = f.Close()
		}
	}()
	names := []string{"tracker"}
	for i := range cfg.Peers {
		names = append(names, peerName(i))
	}
	nw, kind := newNetwork(ctx, cfg.Dir, names, cfg.Seed, cfg.Logf)
	res.Network = kind
	defer func() { err = errors.Join(err, nw.Close()) }()
	_, loop := nw.(*Loopback) // the LAN partitions and impairs
	netFault := !loop

	bin, err := buildBinary(ctx, cfg.Dir)
	if err != nil {
		return res, err
	}
	tmpfs := map[int]bool{}
	if canMount() { // two peers whose disk the nemesis fills
		tmpfs[1], tmpfs[cfg.Peers-1] = true, true
	} else {
		cfg.Logf("not root: no tmpfs peer, no disk-full faults")
	}
	hist.Add(Event{Who: "runner", Kind: "start", Note: fmt.Sprintf("seed %d, %d peers, network %s", cfg.Seed, cfg.Peers, res.Network)})
	c, err := newCluster(ctx, cfg, nw, bin, hist, tmpfs)
	defer c.close()
	if err != nil {
		return res, err
	}

	nem := newNemesis(c, cfg.Seed, netFault)
	nem.off, nem.only = cfg.NoFaults, cfg.Faults
	var userErrs []string
	wctx, cancel := context.WithTimeout(ctx, cfg.Budget)
	g, gctx := errgroup.WithContext(wctx)
	g.Go(func() error { nem.run(gctx); return nil })
	g.Go(func() error { userErrs = runWorkload(gctx, cfg.Seed, c.peers, hist); return nil })
	_ = g.Wait()
	cancel()
	hist.Add(Event{Who: "runner", Kind: "healed", Note: "workload stopped, every fault healed"})
	res.Faults = nem.summary()

	var vs []violation
	for _, e := range userErrs {
		vs = append(vs, violation{"foreign", e})
	}
	for _, e := range nem.errs {
		kind := "fault"
		if strings.Contains(e, "no version had") {
			kind = "foreign"
		}
		vs = append(vs, violation{kind, e})
	}
	took, cerr := converge(ctx, c)
	res.Converged = took
	if cerr != nil {
		vs = append(vs, violation{"converge", cerr.Error()})
	} else {
		hist.Add(Event{Who: "runner", Kind: "converged", Note: took.String()})
	}
	for _, pp := range c.peers {
		if pp.tmpfs {
			hist.Add(Event{Who: "runner", Kind: "disk", Path: pp.name, Note: usage(pp)})
		}
	}
	vs = append(vs, checkAll(c, cerr == nil)...)
	if cerr == nil { // wants that never end: fetch failures after convergence
		settled := time.Now()
		time.Sleep(3 * time.Second)
		vs = append(vs, stuckWants(c, settled)...)
	}
	if files, ferr := readFiles(c.peers[0].dir); ferr == nil {
		for rel := range files {
			if isConflictCopy(rel) {
				res.Conflicts++
			}
		}
	}
	for _, p := range c.procs() {
		if terr := p.terminate(20 * time.Second); terr != nil {
			vs = append(vs, violation{"crash", terr.Error()})
		}
	}
	vs = append(vs, checkLogs(c)...)
	res.NoSpace = noSpaceLines(c)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].kind < vs[j].kind })
	res.Violations = vs
	res.Versions = len(hist.Writes())
	for _, v := range vs {
		hist.Add(Event{Who: "check", Kind: "VIOLATION", Note: v.kind + ": " + v.msg})
		if !cfg.Known[v.kind] {
			res.Failed = true
		}
	}
	return res, nil
}

// converge waits until every peer's folder is the same and stays so for a
// few seconds; it returns how long that took.
func converge(ctx context.Context, c *cluster) (time.Duration, error) {
	start := time.Now()
	var last tree
	var since time.Time
	noted := time.Now()
	err := waitFor(ctx, c.cfg.Converge, "convergence", func() (ok bool, why string) {
		defer func() {
			if !ok && time.Since(noted) >= 5*time.Second { // how convergence goes, in the history
				noted = time.Now()
				c.hist.Add(Event{Who: "runner", Kind: "converging", Note: why})
			}
		}()
		first, err := readTree(c.peers[0].dir)
		if err != nil {
			last = nil
			return false, err.Error()
		}
		for _, pp := range c.peers[1:] {
			t, err := readTree(pp.dir)
			if err != nil {
				last = nil
				return false, err.Error()
			}
			if d := diffTrees(t, first); d != "" {
				last = nil
				return false, fmt.Sprintf("%s differs from %s: %s", pp.name, c.peers[0].name, d)
			}
		}
		if last == nil || diffTrees(first, last) != "" {
			last, since = first, time.Now()
			return false, "equal, not yet stable"
		}
		return time.Since(since) >= 3*time.Second, "equal, not yet stable"
	})
	return time.Since(start), err
}
