package tracker

import (
	"fmt"
	"io"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// What one device, and all of them, may cost the tracker
// (docs/PROTOCOL.md, "Limits"). Each applies before the bytes it bounds
// are read; exceeding a cap closes that connection (or ends that stream)
// with a message that names the limit, and every other device is served.
const (
	// MaxConnsPerDevice is how many connections one device may have open
	// at once. A peer keeps one (its Dialer shares it between folders);
	// after a network change or a restart its previous ones may linger
	// until they time out or are reset, and a connection whose streams
	// all ended stays up to registerTimeout, so several are allowed. Each
	// can hold up to DefaultConnWindow of unread data in QUIC's buffers.
	MaxConnsPerDevice = 8
	// MaxConns is how many connections of members the tracker keeps open
	// at once: far above the devices of a household or a team, small
	// enough that their goroutines and QUIC state fit a Raspberry Pi.
	MaxConns = 1024
	// MaxJoiningConns is how many connections of devices that are not
	// members (yet: a join presents the secret in REGISTER) may be open at
	// once. They are kept apart so that strangers, whose identities cost
	// nothing, cannot take the members' connections; each lives at most
	// registerTimeout unless it joins.
	MaxJoiningConns = 64
	// MaxStreamsPerConn is how many control streams one connection may
	// have open at once (QUIC's stream limit): one per folder the device
	// syncs.
	MaxStreamsPerConn = 64
	// MaxDeviceFrameBytes bounds the frame bytes of one device admitted at
	// once over all its streams (read or being read, until the message is
	// handled): one of the largest frames. A frame is admitted from its
	// declared length before its body is read, or refused unread
	// (ERROR_UNAVAILABLE; the peer sends it again after its backoff).
	MaxDeviceFrameBytes = MaxMessageSize
	// MaxFrameBytes bounds the same over all devices: room for two of the
	// largest frames, so that one device (which can hold at most one)
	// never takes it all.
	MaxFrameBytes = 2 * MaxMessageSize
	// smallFrame is the size up to which a frame is read without the
	// budgets: REGISTER and keep-alives must never wait behind a large
	// report of the same device on another folder (its sessions would
	// time out), and since a stream reads one frame at a time, small
	// frames cost at most smallFrame per stream (MaxStreamsPerConn ×
	// MaxConnsPerDevice streams per device).
	smallFrame = MaxRegisterSize
	// DefaultStreamWindow and DefaultConnWindow are the tracker's QUIC
	// receive windows unless ServerConfig.Transport sets them: peers send
	// it reports, not file data, so small windows cost little speed and
	// bound what an unread stream or connection can park in memory.
	DefaultStreamWindow = 2 << 20
	DefaultConnWindow   = 4 << 20
)

// limits counts the tracker's connections and admitted frame bytes.
type limits struct {
	frames *semaphore.Weighted // MaxFrameBytes

	mu      sync.Mutex
	conns   int // members' connections
	joining int // non-members' connections
	devices map[identity.DeviceID]*deviceLimits
}

// deviceLimits are one device's connections and frame budget, kept while
// it has a connection open.
type deviceLimits struct {
	conns   int                 // guarded by limits.mu
	joining int                 // of conns, counted as a non-member's; guarded by limits.mu
	frames  *semaphore.Weighted // MaxDeviceFrameBytes
}

func newLimits() *limits {
	return &limits{
		frames:  semaphore.NewWeighted(MaxFrameBytes),
		devices: make(map[identity.DeviceID]*deviceLimits),
	}
}

// errConnLimit is why a connection was refused; the connection is closed
// with it (ERROR_UNAVAILABLE: the peer retries with backoff).
type errConnLimit string

func (e errConnLimit) Error() string { return string(e) }

// admitConn counts a new connection of dev (a member or not); release
// gives it back. Over a cap it returns errConnLimit.
func (l *limits) admitConn(dev identity.DeviceID, member bool) (*deviceLimits, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.devices[dev]
	switch {
	case d != nil && d.conns >= MaxConnsPerDevice:
		return nil, nil, errConnLimit(fmt.Sprintf("too many connections from this device (limit %d)", MaxConnsPerDevice))
	case member && l.conns >= MaxConns:
		return nil, nil, errConnLimit(fmt.Sprintf("tracker at its connection limit (%d); retry later", MaxConns))
	case !member && l.joining >= MaxJoiningConns:
		return nil, nil, errConnLimit(fmt.Sprintf("tracker at its limit of connections of non-members (%d); retry later", MaxJoiningConns))
	}
	if d == nil {
		d = &deviceLimits{frames: semaphore.NewWeighted(MaxDeviceFrameBytes)}
		l.devices[dev] = d
	}
	d.conns++
	if member {
		l.conns++
	} else {
		l.joining++
		d.joining++
	}
	return d, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if member || d.joining == 0 { // a member's, or moved by joined
			l.conns--
		} else {
			l.joining--
			d.joining--
		}
		if d.conns--; d.conns == 0 {
			delete(l.devices, dev)
		}
	}, nil
}

// joined moves d's connections counted as a non-member's to the members'
// count once the device has joined (over MaxConns is tolerated here: the
// device was admitted, and the next connection is refused instead).
func (l *limits) joined(d *deviceLimits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.joining -= d.joining
	l.conns += d.joining
	d.joining = 0
}

// readFrame reads one frame of at most limit bytes from st: the length,
// then (once the device's and the tracker's frame budgets admit it) the
// body. A frame over the limit is refused from its length alone (an error
// wrapping wire.ErrTooLarge), and one the budgets cannot admit at once
// with ERROR_UNAVAILABLE (the peer sends it again after its backoff);
// nothing of either is read. It never waits for a budget: a frame waiting
// unread would hold its connection's flow-control window, and the frame
// holding the budget on the same connection could then never complete.
// The caller calls release when it is done with the message.
func (l *limits) readFrame(st io.Reader, d *deviceLimits, limit int) (body []byte, release func(), err error) {
	n, err := wire.ReadLength(st, limit)
	if err != nil {
		return nil, nil, err
	}
	release, err = l.admitFrame(d, int64(n))
	if err != nil {
		return nil, nil, err
	}
	body, err = wire.ReadBody(st, n)
	if err != nil {
		release()
		return nil, nil, err
	}
	return body, release, nil
}

// admitFrame takes n bytes of the device's and the tracker's frame
// budgets, or refuses the frame; a small frame is admitted at once.
func (l *limits) admitFrame(d *deviceLimits, n int64) (func(), error) {
	if n <= smallFrame {
		return func() {}, nil
	}
	if !d.frames.TryAcquire(n) {
		return nil, &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, fmt.Sprintf(
			"frame of %d bytes refused unread: this device's frames in progress would exceed %d bytes (MaxDeviceFrameBytes); send it again later", n, MaxDeviceFrameBytes)}
	}
	if !l.frames.TryAcquire(n) {
		d.frames.Release(n)
		return nil, &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, fmt.Sprintf(
			"frame of %d bytes refused unread: the tracker's frames in progress would exceed %d bytes (MaxFrameBytes); send it again later", n, MaxFrameBytes)}
	}
	return func() {
		l.frames.Release(n)
		d.frames.Release(n)
	}, nil
}
