package scan

import "sync"

// minSplit is the fewest children to lstat worth splitting among the
// stat pool's goroutines.
const minSplit = 16

// statPool lstats the children of a directory on the walk's goroutine and
// helpers more: the kernel's path lookup and inode reads of one directory's
// names run on several cores while the walk keeps their order. Only the
// walk uses it.
type statPool struct {
	tasks   chan statTask
	helpers int
	wg      sync.WaitGroup
}

// statTask is a run of children of d to lstat.
type statTask struct {
	d    *dirHandle
	kids []child
}

// newStatPool returns a pool of helpers goroutines (none: the walk lstats
// alone); run them with run.
func newStatPool(helpers int) *statPool {
	return &statPool{tasks: make(chan statTask, helpers), helpers: helpers}
}

// run is one helper: it lstats the runs it is given until close.
func (p *statPool) run() {
	for t := range p.tasks {
		lstatAll(t.d, t.kids)
		p.wg.Done()
	}
}

// close ends the helpers (after the walk's last lstat).
func (p *statPool) close() { close(p.tasks) }

// lstat lstats the children of d that are to be listed (actStat), split
// among the helpers and the calling goroutine, and returns once all are
// done.
func (p *statPool) lstat(d *dirHandle, kids []child) {
	n := 0
	for i := range kids {
		if kids[i].act == actStat {
			n++
		}
	}
	if p.helpers == 0 || n < minSplit {
		lstatAll(d, kids)
		return
	}
	size := (len(kids) + p.helpers) / (p.helpers + 1)
	for lo := size; lo < len(kids); lo += size {
		p.wg.Add(1)
		p.tasks <- statTask{d: d, kids: kids[lo:min(lo+size, len(kids))]}
	}
	lstatAll(d, kids[:size])
	p.wg.Wait()
}

// lstatAll lstats the children to be listed among kids.
func lstatAll(d *dirHandle, kids []child) {
	for i := range kids {
		if kids[i].act == actStat {
			d.lstat(&kids[i])
		}
	}
}
