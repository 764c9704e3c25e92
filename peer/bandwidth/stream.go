package bandwidth

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/dartsync/dartsync/internal/transport"
)

// Stream returns s with direction dir limited for a transfer with remote:
// writes wait before each Chunk (Send), reads wait after each Chunk they
// return (Recv); the other direction passes through. Each wait moves that
// direction's deadline later by its length. A wait ends early when the
// direction is cancelled (CancelRead; for Send, when the stream's Context
// ends: CancelWrite, Close, the other side stopped reading) or, for Recv,
// when ctx ends. A nil l returns s itself.
func (l *Limiter) Stream(ctx context.Context, s transport.Stream, dir Direction, remote netip.Addr) transport.Stream {
	if l == nil {
		return s
	}
	st := &stream{Stream: s, ctx: ctx, l: l, dir: dir, remote: remote, stop: make(chan struct{})}
	if dir == Send {
		// The stream's context ends with its write direction, also when
		// the other side stops reading: no wait for a dead stream.
		st.ctx = s.Context()
	}
	return st
}

// Session returns sess whose streams (opened or accepted) are limited in
// direction dir (Stream), their waits ending with the session. A nil l
// returns sess itself.
func (l *Limiter) Session(sess transport.Session, dir Direction) transport.Session {
	if l == nil {
		return sess
	}
	return &session{Session: sess, l: l, dir: dir, remote: AddrOf(sess.RemoteAddr())}
}

type session struct {
	transport.Session
	l      *Limiter
	dir    Direction
	remote netip.Addr
}

func (s *session) OpenStream(ctx context.Context) (transport.Stream, error) {
	st, err := s.Session.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	return s.l.Stream(s.Session.Context(), st, s.dir, s.remote), nil
}

func (s *session) AcceptStream(ctx context.Context) (transport.Stream, error) {
	st, err := s.Session.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s.l.Stream(s.Session.Context(), st, s.dir, s.remote), nil
}

type stream struct {
	transport.Stream
	ctx    context.Context
	l      *Limiter
	dir    Direction
	remote netip.Addr

	stopOnce sync.Once
	stop     chan struct{} // closed when the limited direction is cancelled

	mu      sync.Mutex // guards the deadlines; never held across I/O
	readDL  time.Time  // as last set (zero: none), moved by waits
	writeDL time.Time
}

func (s *stream) Read(p []byte) (int, error) {
	if s.dir != Recv || len(p) == 0 || !s.l.limited(Recv, s.remote) {
		return s.Stream.Read(p)
	}
	n, err := s.Stream.Read(p[:min(len(p), Chunk)])
	if n > 0 {
		d, werr := s.l.Wait(s.ctx, Recv, s.remote, n, s.stop)
		s.moveDeadline(&s.readDL, d, s.Stream.SetReadDeadline)
		if err == nil {
			err = werr
		}
	}
	return n, err
}

func (s *stream) Write(p []byte) (int, error) {
	if s.dir != Send {
		return s.Stream.Write(p)
	}
	written := 0
	for len(p) > 0 {
		if !s.l.limited(Send, s.remote) {
			n, err := s.Stream.Write(p)
			return written + n, err
		}
		c := p[:min(len(p), Chunk)]
		d, err := s.l.Wait(s.ctx, Send, s.remote, len(c), s.stop)
		s.moveDeadline(&s.writeDL, d, s.Stream.SetWriteDeadline)
		if err != nil {
			return written, err
		}
		n, err := s.Stream.Write(c)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// moveDeadline moves the deadline *dl (if any) later by d and sets it with
// set.
func (s *stream) moveDeadline(dl *time.Time, d time.Duration, set func(time.Time) error) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	if dl.IsZero() {
		s.mu.Unlock()
		return
	}
	*dl = dl.Add(d)
	t := *dl
	s.mu.Unlock()
	_ = set(t)
}

func (s *stream) SetDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDL, s.writeDL = t, t
	s.mu.Unlock()
	return s.Stream.SetDeadline(t)
}

func (s *stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDL = t
	s.mu.Unlock()
	return s.Stream.SetReadDeadline(t)
}

func (s *stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.writeDL = t
	s.mu.Unlock()
	return s.Stream.SetWriteDeadline(t)
}

func (s *stream) CancelRead(code transport.StreamCode) {
	if s.dir == Recv {
		s.stopOnce.Do(func() { close(s.stop) })
	}
	s.Stream.CancelRead(code)
}

func (s *stream) CancelWrite(code transport.StreamCode) {
	if s.dir == Send {
		s.stopOnce.Do(func() { close(s.stop) })
	}
	s.Stream.CancelWrite(code)
}
