package chaos

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// timerQueue holds delayed packets until they are due and then hands each
// to send, earliest first (packets due at the same time in the order they
// were pushed). Its one goroutine is run, owned by the forwarder.
type timerQueue struct {
	send func(src, dst int, pkt []byte)
	wake chan struct{} // a push may have changed the earliest due time

	mu    sync.Mutex // guards items, seq
	items queuedPackets
	seq   uint64
}

type queuedPacket struct {
	due      time.Time
	seq      uint64
	src, dst int
	pkt      []byte
}

func newTimerQueue(send func(src, dst int, pkt []byte)) *timerQueue {
	return &timerQueue{send: send, wake: make(chan struct{}, 1)}
}

func (q *timerQueue) push(due time.Time, src, dst int, pkt []byte) {
	q.mu.Lock()
	q.seq++
	heap.Push(&q.items, queuedPacket{due: due, seq: q.seq, src: src, dst: dst, pkt: pkt})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run sends packets as they fall due until ctx ends; what is left is dropped.
func (q *timerQueue) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := q.sendDue()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// sendDue sends every packet that is due and returns how long until the
// next one (an hour when the queue is empty).
func (q *timerQueue) sendDue() time.Duration {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			return time.Hour
		}
		if wait := time.Until(q.items[0].due); wait > 0 {
			q.mu.Unlock()
			return wait
		}
		p := heap.Pop(&q.items).(queuedPacket)
		q.mu.Unlock()
		q.send(p.src, p.dst, p.pkt)
	}
}

// queuedPackets is a min-heap by (due, seq).
type queuedPackets []queuedPacket

func (h queuedPackets) Len() int { return len(h) }
func (h queuedPackets) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h queuedPackets) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *queuedPackets) Push(x any)   { *h = append(*h, x.(queuedPacket)) }
func (h *queuedPackets) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = queuedPacket{}
	*h = old[:len(old)-1]
	return p
}
