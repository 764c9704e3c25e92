package bandwidth

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	// Chunk is the most bytes one wait takes from a bucket: small enough
	// that streams waiting together take turns many times per piece (a
	// fair share), large enough that a wait costs little next to the bytes
	// it lets through.
	Chunk = 32 << 10
	// burstTime is how much of its rate a bucket holds (at least a Chunk):
	// at high rates a wait per Chunk would be shorter than a timer can
	// sleep, so the bucket lets a few chunks through at once.
	burstTime = 20 * time.Millisecond
)

// Direction is which bucket a wait takes from.
type Direction int

const (
	// Send is piece bytes this peer sends (its piece server).
	Send Direction = iota
	// Recv is piece bytes this peer receives (its fetcher).
	Recv
)

func (d Direction) String() string {
	if d == Send {
		return "send"
	}
	return "recv"
}

// Limits are what a Limiter enforces.
type Limits struct {
	Send Rate // piece bytes sent per second; 0: unlimited
	Recv Rate // piece bytes received per second; 0: unlimited
	// LANUnlimited exempts remotes whose address is on one of this host's
	// subnets (loopback included).
	LANUnlimited bool
}

// Check says whether both rates are valid (Rate.Check).
func (l Limits) Check() error {
	if err := l.Send.Check(); err != nil {
		return fmt.Errorf("send limit: %w", err)
	}
	if err := l.Recv.Check(); err != nil {
		return fmt.Errorf("receive limit: %w", err)
	}
	return nil
}

func (l Limits) String() string {
	s := fmt.Sprintf("send %s, receive %s", l.Send, l.Recv)
	if l.LANUnlimited {
		s += ", local subnets unlimited"
	}
	return s
}

// Limiter holds the daemon's two buckets and its Limits. A nil *Limiter
// limits nothing.
type Limiter struct {
	buckets [2]*bucket
	counted [2]atomic.Int64 // bytes waited for, per direction
	subnets subnetCache

	mu     sync.Mutex // guards limits; held only to copy it
	limits Limits

	update sync.Mutex // serializes changes (Set, Update); never held across I/O
}

// New returns a Limiter enforcing l (which must pass Check).
func New(l Limits) (*Limiter, error) {
	if err := l.Check(); err != nil {
		return nil, err
	}
	lim := &Limiter{subnets: subnetCache{list: interfacePrefixes, now: time.Now}}
	for i := range lim.buckets {
		lim.buckets[i] = newBucket()
	}
	lim.apply(l, time.Now())
	return lim, nil
}

// Limits returns what the Limiter enforces now.
func (l *Limiter) Limits() Limits {
	if l == nil {
		return Limits{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits
}

// Set changes the limits (which must pass Check). Waits under way are cut
// short and start again under the new rate.
func (l *Limiter) Set(lim Limits) error {
	_, err := l.Update(func(Limits) (Limits, error) { return lim, nil })
	return err
}

// Update changes the limits to what f makes of the current ones, with no
// other change in between; f's error, or a result that fails Check, leaves
// them as they were.
func (l *Limiter) Update(f func(Limits) (Limits, error)) (Limits, error) {
	l.update.Lock()
	defer l.update.Unlock()
	cur := l.Limits()
	next, err := f(cur)
	if err != nil {
		return cur, err
	}
	if err := next.Check(); err != nil {
		return cur, err
	}
	l.apply(next, time.Now())
	return next, nil
}

// apply sets the limits and the buckets; the caller holds l.update.
func (l *Limiter) apply(lim Limits, now time.Time) {
	l.mu.Lock()
	l.limits = lim
	l.mu.Unlock()
	l.buckets[Send].set(now, lim.Send)
	l.buckets[Recv].set(now, lim.Recv)
}

// limited says whether bytes in direction dir with remote wait at all now.
func (l *Limiter) limited(dir Direction, remote netip.Addr) bool {
	if l == nil || l.buckets[dir].unlimited() {
		return false
	}
	return !l.exempt(remote)
}

// exempt says whether remote is on a local subnet and the limits say such
// remotes are unlimited.
func (l *Limiter) exempt(remote netip.Addr) bool {
	return remote.IsValid() && l.Limits().LANUnlimited && l.subnets.contains(remote)
}

// Wait takes n bytes from direction dir's bucket for a transfer with
// remote (the zero Addr: never exempt), a Chunk at a time, and returns how long it
// waited. It ends early with ctx's error, or when stop (may be nil) is
// closed, with ErrStopped.
func (l *Limiter) Wait(ctx context.Context, dir Direction, remote netip.Addr, n int, stop <-chan struct{}) (time.Duration, error) {
	var waited time.Duration
	for n > 0 {
		if !l.limited(dir, remote) {
			return waited, nil
		}
		c := min(n, Chunk)
		d, changed, err := l.buckets[dir].wait(ctx, c, stop)
		waited += d
		if err != nil {
			return waited, err
		}
		if changed {
			continue // the limits changed: is this remote still limited?
		}
		l.counted[dir].Add(int64(c))
		n -= c
	}
	return waited, nil
}

// Counted is how many bytes went through direction dir's limit (bytes
// while it was unlimited, or exempt, are not counted).
func (l *Limiter) Counted(dir Direction) int64 {
	if l == nil {
		return 0
	}
	return l.counted[dir].Load()
}

// bucket is one direction's token bucket.
type bucket struct {
	lim *rate.Limiter

	mu      sync.Mutex    // guards changed
	changed chan struct{} // closed (and replaced) when the rate changes
}

func newBucket() *bucket {
	return &bucket{lim: rate.NewLimiter(rate.Inf, Chunk), changed: make(chan struct{})}
}

// burst is the bucket size for rate r.
func burst(r Rate) int {
	return max(Chunk, int(float64(r)*burstTime.Seconds()))
}

// set changes the bucket's rate at now (0: unlimited) and wakes every wait.
func (b *bucket) set(now time.Time, r Rate) {
	if r == 0 {
		b.lim.SetLimitAt(now, rate.Inf)
	} else {
		b.lim.SetBurstAt(now, burst(r))
		b.lim.SetLimitAt(now, rate.Limit(r))
	}
	b.mu.Lock()
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func (b *bucket) unlimited() bool { return b.lim.Limit() == rate.Inf }

// reserve takes n (at most a Chunk) bytes from the bucket at now and says
// how long the taker must wait before using them; cancel gives them back
// (as far as later reservations allow). This is the whole of the bucket
// logic; wait adds the sleeping.
func (b *bucket) reserve(now time.Time, n int) (time.Duration, func(time.Time)) {
	r := b.lim.ReserveN(now, n)
	if !r.OK() { // n above the burst: only while a rate change is under way
		return 0, func(time.Time) {}
	}
	return r.DelayFrom(now), r.CancelAt
}

// wait reserves n bytes and sleeps until they may be used, and returns how
// long it slept. A rate change cancels the reservation and returns changed
// (the caller decides again whether to wait).
func (b *bucket) wait(ctx context.Context, n int, stop <-chan struct{}) (slept time.Duration, changed bool, err error) {
	start := time.Now()
	b.mu.Lock()
	ch := b.changed
	b.mu.Unlock()
	if b.unlimited() {
		return 0, false, nil
	}
	d, cancel := b.reserve(start, n)
	if d <= 0 {
		return 0, false, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return time.Since(start), false, nil
	case <-ch:
		cancel(time.Now())
		return time.Since(start), true, nil
	case <-ctx.Done():
		cancel(time.Now())
		return time.Since(start), false, ctx.Err()
	case <-stop:
		cancel(time.Now())
		return time.Since(start), false, ErrStopped
	}
}
