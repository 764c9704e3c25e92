package watch

import (
	"sort"
	"time"
)

// quietSet holds the paths that had events and are not quiet yet, each
// with its due time: Delay after its last ordinary event, or Settle after a
// completion hint (and after the ordinary events of the hint's grace). It
// belongs to the Watcher's goroutine.
type quietSet struct {
	delay, settle time.Duration

	due   map[string]time.Time // path -> when it is quiet
	fast  map[string]time.Time // path -> end of its hint grace
	timer *time.Timer
	at    time.Time // when timer fires; zero: not armed
}

func newQuietSet(delay, settle time.Duration) *quietSet {
	return &quietSet{delay: delay, settle: settle, due: make(map[string]time.Time), fast: make(map[string]time.Time)}
}

// touch records an ordinary event of p (created, written, removed, renamed,
// attributes).
func (q *quietSet) touch(p string, now time.Time) {
	if end, ok := q.fast[p]; ok && now.Before(end) {
		q.set(p, later(q.due[p], now.Add(q.settle)))
		return
	}
	q.set(p, now.Add(q.delay))
}

// hint records that p is complete (closed after writing, or renamed in).
func (q *quietSet) hint(p string, now time.Time) {
	q.fast[p] = now.Add(hintGrace)
	q.set(p, now.Add(q.settle))
}

func (q *quietSet) set(p string, due time.Time) {
	q.due[p] = due
	if q.at.IsZero() || due.Before(q.at) {
		q.arm(due)
	}
}

func (q *quietSet) arm(at time.Time) {
	d := max(time.Until(at), 0)
	if q.timer == nil {
		q.timer = time.NewTimer(d)
	} else {
		q.timer.Reset(d)
	}
	q.at = at
}

// C fires when the earliest path may be quiet; nil when none waits.
func (q *quietSet) C() <-chan time.Time {
	if q.at.IsZero() {
		return nil
	}
	return q.timer.C
}

// ripe takes the paths that are quiet at now (sorted) and arms the timer
// for the next one.
func (q *quietSet) ripe(now time.Time) []string {
	q.at = time.Time{}
	var out []string
	var next time.Time
	for p, due := range q.due {
		if !due.After(now) {
			out = append(out, p)
			delete(q.due, p)
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	for p, end := range q.fast {
		if !end.After(now) {
			delete(q.fast, p)
		}
	}
	if !next.IsZero() {
		q.arm(next)
	} else if len(q.fast) > 0 {
		q.arm(now.Add(hintGrace)) // only to forget the graces that ended
	}
	sort.Strings(out)
	return out
}

func (q *quietSet) stop() {
	if q.timer != nil {
		q.timer.Stop()
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
