package bandwidth

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

// simulate runs streams transfers against b on a fake clock for span: each
// stream takes a Chunk, waits the delay the bucket gives, and takes the
// next. change (may be nil) is called once when the clock passes changeAt.
// It returns the bytes each stream moved.
func simulate(b *bucket, streams int, span time.Duration, changeAt time.Duration, change func(time.Time)) []int64 {
	start := time.Unix(1_000_000, 0)
	ready := make([]time.Time, streams)
	for i := range ready {
		ready[i] = start
	}
	got := make([]int64, streams)
	changed := change == nil
	for {
		next := 0 // the stream that asks first: the clock never goes back
		for i := range ready {
			if ready[i].Before(ready[next]) {
				next = i
			}
		}
		now := ready[next]
		if !changed && now.Sub(start) >= changeAt {
			change(now)
			changed = true
		}
		d, _ := b.reserve(now, Chunk)
		done := now.Add(d)
		if done.Sub(start) > span {
			return got
		}
		got[next] += Chunk
		ready[next] = done
	}
}

func TestBucketRateOverTenSeconds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rate    Rate
		streams int
	}{
		{"5MB/s one transfer", 5e6, 1},
		{"5MB/s two transfers", 5e6, 2},
		{"2MiB/s eight transfers", 2 << 20, 8},
		{"100Mbit/s three transfers", 12.5e6, 3},
		{"64KiB/s one transfer", 64 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket()
			b.set(time.Unix(1_000_000, 0), tc.rate)
			got := simulate(b, tc.streams, 10*time.Second, 0, nil)
			var total int64
			for _, g := range got {
				total += g
			}
			avg := float64(total) / 10
			if math.Abs(avg-float64(tc.rate)) > 0.1*float64(tc.rate) {
				t.Errorf("average %.0f B/s over 10 s, want within 10%% of %.0f", avg, float64(tc.rate))
			}
			fair := float64(total) / float64(tc.streams)
			for i, g := range got {
				if math.Abs(float64(g)-fair) > 0.05*fair+Chunk {
					t.Errorf("transfer %d moved %d bytes of %d: not a fair share (%.0f)", i, g, total, fair)
				}
			}
		})
	}
}

func TestBucketRateChange(t *testing.T) {
	for _, tc := range []struct {
		name           string
		before, after  Rate
		wantFirst      float64 // bytes in the first 5 s
		wantSecondHalf float64 // bytes in the next 5 s
	}{
		{"faster", 1e6, 4e6, 5e6, 20e6},
		{"slower", 4e6, 1e6, 20e6, 5e6},
		{"to unlimited", 1e6, 0, 5e6, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket()
			b.set(time.Unix(1_000_000, 0), tc.before)
			first := simulate(b, 2, 5*time.Second, 0, nil)
			if f := float64(first[0] + first[1]); math.Abs(f-tc.wantFirst) > 0.1*tc.wantFirst {
				t.Errorf("first 5 s: %.0f bytes, want about %.0f", f, tc.wantFirst)
			}
			if tc.after == 0 {
				b.set(time.Unix(1_000_005, 0), 0)
				if !b.unlimited() {
					t.Fatal("bucket still limited after set(0)")
				}
				return
			}
			// The second run starts its clock where the first ended.
			b.set(time.Unix(1_000_005, 0), tc.after)
			second := simulateFrom(b, 2, time.Unix(1_000_005, 0), 5*time.Second)
			if s := float64(second[0] + second[1]); math.Abs(s-tc.wantSecondHalf) > 0.1*tc.wantSecondHalf+float64(burst(tc.before)) {
				t.Errorf("next 5 s: %.0f bytes, want about %.0f", s, tc.wantSecondHalf)
			}
		})
	}
}

// simulateFrom is simulate starting at start.
func simulateFrom(b *bucket, streams int, start time.Time, span time.Duration) []int64 {
	ready := make([]time.Time, streams)
	for i := range ready {
		ready[i] = start
	}
	got := make([]int64, streams)
	for {
		next := 0
		for i := range ready {
			if ready[i].Before(ready[next]) {
				next = i
			}
		}
		d, _ := b.reserve(ready[next], Chunk)
		done := ready[next].Add(d)
		if done.Sub(start) > span {
			return got
		}
		got[next] += Chunk
		ready[next] = done
	}
}

func TestBucketCancelGivesBack(t *testing.T) {
	b := newBucket()
	now := time.Unix(1_000_000, 0)
	b.set(now, 64<<10)
	_, _ = b.reserve(now, Chunk) // the burst (one Chunk at this rate) is used
	d1, cancel := b.reserve(now, Chunk)
	if d1 <= 0 {
		t.Fatalf("second chunk: no wait at 64KiB/s")
	}
	cancel(now)
	d2, _ := b.reserve(now, Chunk)
	if d2 != d1 {
		t.Fatalf("after cancel the next chunk waits %v, want %v (the cancelled one's tokens back)", d2, d1)
	}
}

func TestLimitsCheck(t *testing.T) {
	for _, tc := range []struct {
		l       Limits
		wantErr string
	}{
		{Limits{}, ""},
		{Limits{Send: 5e6, Recv: MinRate, LANUnlimited: true}, ""},
		{Limits{Send: 1}, "send limit"},
		{Limits{Recv: -1}, "receive limit"},
		{Limits{Recv: 2 * MaxRate}, "receive limit"},
	} {
		_, err := New(tc.l)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !errors.Is(err, ErrBadRate) || !contains(err.Error(), tc.wantErr)) {
			t.Errorf("New(%+v) = %v, want error %q", tc.l, err, tc.wantErr)
		}
	}
}

func TestLANExempt(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	reads := 0
	prefixes := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("fd00:1::/64"), netip.MustParsePrefix("127.0.0.0/8")}
	l, err := New(Limits{Send: 1e6, Recv: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	l.subnets = subnetCache{now: func() time.Time { return now }, list: func() ([]netip.Prefix, error) {
		reads++
		return prefixes, nil
	}}
	for _, tc := range []struct {
		addr string
		lan  bool
		want bool // limited
	}{
		{"192.168.1.7", false, true},
		{"192.168.1.7", true, false},
		{"::ffff:192.168.1.7", true, false},
		{"192.168.2.7", true, true},
		{"fd00:1::5", true, false},
		{"fd00:2::5", true, true},
		{"127.0.0.1", true, false},
		{"", true, true}, // unknown remote: limited
	} {
		lim := l.Limits()
		lim.LANUnlimited = tc.lan
		if err := l.Set(lim); err != nil {
			t.Fatal(err)
		}
		var a netip.Addr
		if tc.addr != "" {
			a = netip.MustParseAddr(tc.addr)
		}
		if got := l.limited(Send, a); got != tc.want {
			t.Errorf("limited(%q) with LANUnlimited %v = %v, want %v", tc.addr, tc.lan, got, tc.want)
		}
	}
	if reads != 1 {
		t.Errorf("subnets read %d times within SubnetRefresh, want 1", reads)
	}
	prefixes = nil // the host left the network
	now = now.Add(SubnetRefresh)
	if !l.limited(Send, netip.MustParseAddr("192.168.1.7")) {
		t.Error("an address of a subnet the host left is still exempt after SubnetRefresh")
	}
}

func TestPrefixOfRealInterfaces(t *testing.T) {
	ps, err := interfacePrefixes()
	if err != nil {
		t.Skipf("no interface list here: %v", err)
	}
	for _, p := range ps {
		if p.Contains(netip.MustParseAddr("127.0.0.1")) {
			return
		}
	}
	t.Errorf("loopback 127.0.0.1 in none of the interface subnets %v", ps)
}

func TestNilLimiterLimitsNothing(t *testing.T) {
	var l *Limiter
	d, err := l.Wait(context.Background(), Send, netip.Addr{}, 1<<30, nil)
	if d != 0 || err != nil {
		t.Fatalf("nil Limiter waited %v, %v", d, err)
	}
	if l.Limits() != (Limits{}) {
		t.Fatal("nil Limiter has limits")
	}
}

// TestWaitTakesAtLeastTheRate: a real wait moves no more than the rate
// allows (a lower bound on the time, which slowness cannot break).
func TestWaitTakesAtLeastTheRate(t *testing.T) {
	const rate, n = 4 << 20, 2 << 20
	l, err := New(Limits{Send: rate})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := l.Wait(context.Background(), Send, netip.Addr{}, n, nil); err != nil {
		t.Fatal(err)
	}
	min := time.Duration(float64(n-burst(rate)) / rate * float64(time.Second))
	if el := time.Since(start); el < min*9/10 {
		t.Fatalf("%d bytes at %d B/s let through in %v, want at least %v", n, rate, el, min)
	}
}

// TestSetCutsWaitShort: a wait under a slow rate ends once the limit is
// lifted, long before the old rate would have let it through.
func TestSetCutsWaitShort(t *testing.T) {
	l, err := New(Limits{Recv: MinRate})
	if err != nil {
		t.Fatal(err)
	}
	// Queue 10 minutes of debt at MinRate.
	for range 150 {
		l.buckets[Recv].reserve(time.Now(), Chunk)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Wait(context.Background(), Recv, netip.Addr{}, Chunk, nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting (if it has not, it finds no limit)
	if err := l.Set(Limits{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("wait still blocked a minute after the limit was lifted")
	}
}

func TestWaitEndsOnStopAndContext(t *testing.T) {
	l, err := New(Limits{Send: MinRate})
	if err != nil {
		t.Fatal(err)
	}
	for range 150 {
		l.buckets[Send].reserve(time.Now(), Chunk)
	}
	stop := make(chan struct{})
	close(stop)
	if _, err := l.Wait(context.Background(), Send, netip.Addr{}, Chunk, stop); !errors.Is(err, ErrStopped) {
		t.Fatalf("wait with a closed stop: %v, want ErrStopped", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx, Send, netip.Addr{}, Chunk, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestLANUnlimitedEndsWait: a wait of a remote on a local subnet ends once
// LANUnlimited is set, however much debt the bucket has, and is not
// counted against the limit.
func TestLANUnlimitedEndsWait(t *testing.T) {
	l, err := New(Limits{Send: MinRate})
	if err != nil {
		t.Fatal(err)
	}
	l.subnets = subnetCache{now: time.Now, list: func() ([]netip.Prefix, error) {
		return []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}, nil
	}}
	for range 150 { // 10 minutes of debt
		l.buckets[Send].reserve(time.Now(), Chunk)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Wait(context.Background(), Send, netip.MustParseAddr("192.168.1.9"), Chunk, nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := l.Set(Limits{Send: MinRate, LANUnlimited: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("wait still blocked a minute after its remote became exempt")
	}
	if n := l.Counted(Send); n != 0 {
		t.Errorf("%d bytes counted against the limit for an exempt remote", n)
	}
}
