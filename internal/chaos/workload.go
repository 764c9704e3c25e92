package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// The workload: one simulated user per peer edits that peer's folder at
// random moments (50-600 ms apart), all at once. Half the names are shared,
// from a small pool so that users meet on the same paths: top-level files
// f0..f9.txt and files dJ/fK.bin in directories d0..d5 (a directory move
// renames dJ to a dK the user does not have). The other half are private
// to one user (uN/sJ/gK.dat, sJ in s0..s2, edited, renamed, moved and
// deleted by user N only): a path with one writer never has a real
// conflict, so a conflict copy there is spurious. Every version is written to the peer's tmp
// directory (outside the folder, on its file system) and renamed into
// place, after the History recorded its hash.

// workloadOps are the kinds of edit, with their weights.
var workloadOps = []struct {
	kind   string
	weight int
}{
	{"create", 22}, {"append", 14}, {"overwrite", 14}, {"truncate", 8}, {"rename", 10},
	{"delete", 10}, {"recreate", 8}, {"dirmove", 5}, {"resolve", 3},
}

// user is the workload on one peer's folder.
type user struct {
	pp   *peerProc
	hist *History
	rng  *rand.Rand
	n    int // temporary files written

	deleted []string // hashes of versions this user deleted (re-creations)
	errs    []string // what the user saw that no version had, or a broken write
}

// runWorkload runs one user per peer until ctx ends; it returns what the
// users saw that breaks an invariant (bytes no version had, a file changed
// by a failed write).
func runWorkload(ctx context.Context, seed int64, peers []*peerProc, hist *History) []string {
	users := make([]*user, len(peers))
	g, ctx := errgroup.WithContext(ctx)
	for i, pp := range peers {
		u := &user{pp: pp, hist: hist, rng: rand.New(rand.NewPCG(uint64(seed), uint64(1000+i)))}
		users[i] = u
		g.Go(func() error { u.run(ctx); return nil })
	}
	_ = g.Wait()
	var out []string
	for _, u := range users {
		out = append(out, u.errs...)
	}
	return out
}

func (u *user) run(ctx context.Context) {
	for {
		d := time.Duration(50+u.rng.IntN(550)) * time.Millisecond
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		u.step()
	}
}

// step does one edit.
func (u *user) step() {
	total := 0
	for _, o := range workloadOps {
		total += o.weight
	}
	r := u.rng.IntN(total)
	kind := ""
	for _, o := range workloadOps {
		if r < o.weight {
			kind = o.kind
			break
		}
		r -= o.weight
	}
	files := u.files()
	if err := u.do(kind, files); err != nil {
		u.hist.Add(Event{Who: u.pp.name, Kind: kind + "-failed", Note: err.Error()})
	}
}

// files lists the user's regular files (folder-relative, sorted), the
// peer's state and nothing below .dartsync excluded.
func (u *user) files() []string {
	var out []string
	_ = filepath.WalkDir(u.pp.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file renamed away meanwhile
		}
		rel, _ := filepath.Rel(u.pp.dir, p)
		if rel == ".dartsync" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// poolName is a random name of the pool, private to the user or shared.
func (u *user) poolName(private bool) string {
	if private {
		return fmt.Sprintf("%s/s%d/g%d.dat", u.privateDir(), u.rng.IntN(3), u.rng.IntN(6))
	}
	if u.rng.IntN(3) == 0 {
		return fmt.Sprintf("f%d.txt", u.rng.IntN(10))
	}
	return fmt.Sprintf("d%d/f%d.bin", u.rng.IntN(6), u.rng.IntN(8))
}

// privateDir is the top directory of the user's private names.
func (u *user) privateDir() string { return fmt.Sprintf("u%d", u.pp.idx+1) }

// privateOwner returns the user (peer name) whose private name rel is, or
// "" for a shared name.
func privateOwner(rel string) string {
	top, _, ok := strings.Cut(rel, "/")
	if !ok || len(top) < 2 || top[0] != 'u' || strings.Trim(top[1:], "0123456789") != "" {
		return ""
	}
	return "peer" + top[1:]
}

// freeName is a pool name (private or shared) the user does not have (""
// if none found).
func (u *user) freeName(have []string, private bool) string {
	for range 20 {
		n := u.poolName(private)
		if _, err := os.Lstat(u.abs(n)); errors.Is(err, fs.ErrNotExist) && !contains(have, n) {
			return n
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (u *user) abs(rel string) string { return filepath.Join(u.pp.dir, filepath.FromSlash(rel)) }

// pick returns a random file the user may edit (shared or its own private
// one) that is not a conflict copy ("" if none).
func (u *user) pick(files []string) string {
	var plain []string
	for _, f := range files {
		if o := privateOwner(f); !isConflictCopy(f) && (o == "" || o == u.pp.name) {
			plain = append(plain, f)
		}
	}
	if len(plain) == 0 {
		return ""
	}
	return plain[u.rng.IntN(len(plain))]
}

// isConflictCopy reports whether a folder-relative path names a conflict
// copy.
func isConflictCopy(p string) bool { return strings.Contains(filepath.Base(p), ".sync-conflict-") }

// randomData returns new content: mostly small, sometimes up to 1 MiB.
func (u *user) randomData() []byte {
	var n int
	switch r := u.rng.IntN(100); {
	case r < 70:
		n = u.rng.IntN(4 << 10)
	case r < 95:
		n = 4<<10 + u.rng.IntN(124<<10)
	default:
		n = 128<<10 + u.rng.IntN(896<<10)
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := u.rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// isNoSpace reports a full file system.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
