package simtest

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"
)

// The paths operations use. Files and directories never share a name, and
// conflict copies are never touched by an operation (only by the peers).
var (
	fileDirs  = []string{"", "d0", "d1/sub"}
	fileNames = []string{"a.txt", "b.dat", "c", "d.md"}
	emptyDirs = []string{"e0", "e1", "d0/e2"}
)

func filePaths() []string {
	var out []string
	for _, d := range fileDirs {
		for _, n := range fileNames {
			out = append(out, path.Join(d, n))
		}
	}
	return out
}

// operation is one kind of step; do returns false when it does not apply
// now (another kind is drawn).
type operation struct {
	name   string
	weight func(r *run) int
	do     func(r *run) bool
}

func fixed(w int) func(*run) int { return func(*run) int { return w } }

func operations() []operation {
	trackerDown := func(w int) func(*run) int {
		return func(r *run) int {
			if r.tr.up() {
				return 0
			}
			return w
		}
	}
	trackerUp := func(w int) func(*run) int {
		return func(r *run) int {
			if r.tr.up() {
				return w
			}
			return 0
		}
	}
	return []operation{
		{"write", fixed(14), opWrite},
		{"overwrite same size", fixed(7), func(r *run) bool { return opOverwrite(r, true) }},
		{"overwrite other size", fixed(9), func(r *run) bool { return opOverwrite(r, false) }},
		{"append", fixed(6), opAppend},
		{"delete", fixed(8), opDelete},
		{"rename in dir", fixed(4), func(r *run) bool { return opRename(r, true) }},
		{"rename across dirs", fixed(4), func(r *run) bool { return opRename(r, false) }},
		{"re-create", fixed(5), opRecreate},
		{"mkdir", fixed(3), opMkdir},
		{"rmdir", fixed(3), opRmdir},
		{"conflict", fixed(4), opConflict},
		{"pause", fixed(8), opPause},
		{"peer stop", fixed(2), opPeerStop},
		{"peer start", fixed(4), opPeerStart},
		{"tracker stop", trackerUp(2), opTrackerStop},
		{"tracker start", trackerDown(40), opTrackerStart},
	}
}

// step draws one operation that applies and runs it, then waits a moment.
func (r *run) step() {
	ops := operations()
	for try := 0; try < 50; try++ {
		total := 0
		ws := make([]int, len(ops))
		for i, o := range ops {
			ws[i] = o.weight(r)
			total += ws[i]
		}
		n := r.rnd.IntN(total)
		i := 0
		for ; n >= ws[i]; i++ {
			n -= ws[i]
		}
		if ops[i].do(r) {
			break
		}
	}
	time.Sleep(time.Duration(r.rnd.IntN(60)) * time.Millisecond)
}

func (r *run) pick(n int) int { return r.rnd.IntN(n) }

func (r *run) anyPeer() *simPeer { return r.peers[r.pick(len(r.peers))] }

func (p *simPeer) abs(rel string) string { return filepath.Join(p.root, filepath.FromSlash(rel)) }

// file returns the content of the regular file rel on p.
func (p *simPeer) file(rel string) ([]byte, bool) {
	fi, err := os.Lstat(p.abs(rel))
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	b, err := os.ReadFile(p.abs(rel))
	return b, err == nil
}

func (p *simPeer) exists(rel string) bool {
	_, err := os.Lstat(p.abs(rel))
	return err == nil
}

// present returns a random path that is a regular file on p, with content.
func (r *run) present(p *simPeer) (string, []byte, bool) {
	ps := filePaths()
	r.rnd.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	for _, rel := range ps {
		if b, ok := p.file(rel); ok {
			return rel, b, true
		}
	}
	return "", nil, false
}

// absent returns a random file path that does not exist on p and satisfies ok.
func (r *run) absent(p *simPeer, ok func(string) bool) (string, bool) {
	ps := filePaths()
	r.rnd.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	for _, rel := range ps {
		if !p.exists(rel) && ok(rel) {
			return rel, true
		}
	}
	return "", false
}

// content returns new content of size bytes, unique when size allows.
func (r *run) content(size int) []byte {
	r.nver++
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.rnd.Uint32())
	}
	copy(b, fmt.Sprintf("#%d\n", r.nver))
	return b
}

// size draws a file size: empty, small, a piece or a few (pieces are 16 KiB).
func (r *run) size() int {
	switch n := r.pick(100); {
	case n < 5:
		return 0
	case n < 45:
		return 1 + r.pick(200)
	case n < 80:
		return 200 + r.pick(8000)
	default:
		return 16<<10 + r.pick(54<<10)
	}
}

// put writes b at rel on p (parents created) and records it.
func (r *run) put(p *simPeer, rel string, b []byte, what string) bool {
	if old, ok := p.file(rel); ok {
		r.book.replacing(p.idx, rel, old, time.Now())
	}
	if err := os.MkdirAll(filepath.Dir(p.abs(rel)), 0o755); err != nil {
		r.t.Errorf("%s %s: %v", p.name, what, err)
		return false
	}
	if err := os.WriteFile(p.abs(rel), b, 0o644); err != nil {
		r.t.Errorf("%s %s %s: %v", p.name, what, rel, err)
		return false
	}
	r.book.wrote(len(r.log), p.idx, rel, b, time.Now())
	r.logf(p.name, "%s %s: %d B %s%s", what, rel, len(b), sum(b), r.offline(p))
	return true
}

func (r *run) offline(p *simPeer) string {
	if p.running() {
		return ""
	}
	return " (offline)"
}

func opWrite(r *run) bool {
	p := r.anyPeer()
	rel, ok := r.absent(p, func(string) bool { return true })
	return ok && r.put(p, rel, r.content(r.size()), "write")
}

func opOverwrite(r *run, sameSize bool) bool {
	p := r.anyPeer()
	rel, old, ok := r.present(p)
	if !ok || (sameSize && len(old) == 0) {
		return false
	}
	n := len(old)
	if !sameSize {
		for n == len(old) {
			n = r.size()
		}
	}
	what := "overwrite (other size)"
	if sameSize {
		what = "overwrite (same size)"
	}
	return r.put(p, rel, r.content(n), what)
}

func opAppend(r *run) bool {
	p := r.anyPeer()
	rel, old, ok := r.present(p)
	if !ok {
		return false
	}
	more := r.content(1 + r.pick(3000))
	r.book.replacing(p.idx, rel, old, time.Now())
	f, err := os.OpenFile(p.abs(rel), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false // replaced by the daemon meanwhile
	}
	_, err = f.Write(more)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.t.Errorf("%s append %s: %v", p.name, rel, err)
		return false
	}
	// What the file holds now: the daemon may have replaced it between
	// the read and the append.
	now, ok := p.file(rel)
	if !ok || !bytes.HasSuffix(now, more) {
		now = append(old, more...)
	}
	r.book.wrote(len(r.log), p.idx, rel, now, time.Now())
	r.logf(p.name, "append %d B to %s: %d B %s%s", len(more), rel, len(now), sum(now), r.offline(p))
	return true
}

func opDelete(r *run) bool {
	p := r.anyPeer()
	rel, old, ok := r.present(p)
	if !ok {
		return false
	}
	if err := os.Remove(p.abs(rel)); err != nil {
		return false
	}
	r.book.removed(len(r.log), p.idx, rel, old, time.Now())
	r.logf(p.name, "delete %s (%d B %s)%s", rel, len(old), sum(old), r.offline(p))
	return true
}

func opRename(r *run, sameDir bool) bool {
	p := r.anyPeer()
	from, b, ok := r.present(p)
	if !ok {
		return false
	}
	to, ok := r.absent(p, func(rel string) bool { return (path.Dir(rel) == path.Dir(from)) == sameDir })
	if !ok {
		return false
	}
	if err := os.MkdirAll(filepath.Dir(p.abs(to)), 0o755); err != nil {
		r.t.Errorf("%s rename: %v", p.name, err)
		return false
	}
	if err := os.Rename(p.abs(from), p.abs(to)); err != nil {
		return false
	}
	r.book.renamed(len(r.log), p.idx, from, to, b, time.Now())
	r.logf(p.name, "rename %s -> %s (%d B %s)%s", from, to, len(b), sum(b), r.offline(p))
	return true
}

func opRecreate(r *run) bool {
	p := r.anyPeer()
	rel, ok := r.absent(p, func(rel string) bool { _, ok := r.book.deleted[rel]; return ok })
	return ok && r.put(p, rel, r.book.deleted[rel], "re-create")
}

func opMkdir(r *run) bool {
	p := r.anyPeer()
	d := emptyDirs[r.pick(len(emptyDirs))]
	if p.exists(d) {
		return false
	}
	if err := os.MkdirAll(p.abs(d), 0o755); err != nil {
		r.t.Errorf("%s mkdir %s: %v", p.name, d, err)
		return false
	}
	r.logf(p.name, "mkdir %s%s", d, r.offline(p))
	return true
}

func opRmdir(r *run) bool {
	p := r.anyPeer()
	d := emptyDirs[r.pick(len(emptyDirs))]
	if os.Remove(p.abs(d)) != nil { // absent, or not empty
		return false
	}
	r.logf(p.name, "rmdir %s%s", d, r.offline(p))
	return true
}

// opConflict writes one path on two peers at once.
func opConflict(r *run) bool {
	ps := filePaths()
	rel := ps[r.pick(len(ps))]
	i := r.pick(len(r.peers))
	j := (i + 1 + r.pick(len(r.peers)-1)) % len(r.peers)
	a, b := r.content(r.size()), r.content(r.size())
	return r.put(r.peers[i], rel, a, "conflict write") && r.put(r.peers[j], rel, b, "conflict write")
}

func opPause(r *run) bool {
	d := 200*time.Millisecond + time.Duration(r.pick(2300))*time.Millisecond
	r.logf("-", "pause %v", d)
	time.Sleep(d)
	return true
}
