package localapi

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventDropped is the Type of the event a stream carries in place of the
// events its reader was too slow for (Count says how many).
const EventDropped = "dropped"

// subscriberBuffer is how many events wait for one slow reader before
// events are dropped for it.
const subscriberBuffer = 256

// Bus hands events to every open /v1/events stream. Publish never blocks:
// a subscriber whose buffer is full loses the event (it is counted and
// reported to that reader as a "dropped" event). The zero Bus is not
// usable; make one with NewBus. A nil *Bus discards every event.
type Bus struct {
	mu   sync.Mutex
	seq  uint64
	subs map[*Subscription]struct{}
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscription is one reader of a Bus: its events arrive on C until Close.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	bus     *Bus
	dropped atomic.Int64
}

// Publish stamps e with the next sequence number (and the time, if unset)
// and offers it to every subscriber without waiting.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribe returns a new subscription; the caller must Close it.
func (b *Bus) Subscribe() *Subscription {
	c := make(chan Event, subscriberBuffer)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Dropped returns how many events were lost since the last call, and
// resets the count.
func (s *Subscription) Dropped() int64 { return s.dropped.Swap(0) }

// Close ends the subscription (no more events are sent to C).
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
}
