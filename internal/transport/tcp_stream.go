package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// Each direction of a TCP stream carries frames, a type byte and a uint32
// (big endian): frData (the uint32 is the length of the data that follows,
// at most maxFrame) or frReset (the code of CancelWrite; nothing follows).
// The orderly end of a direction is yamux's own close at a frame boundary.
// CancelRead travels on the session's control stream (ctlStop), so that the
// writer learns of it even when nobody reads its stream.
const (
	frData  = 0
	frReset = 1

	frameHdr = 5
	maxFrame = 256 << 10
)

// ErrProtocol: the other side broke the framing of a TCP stream.
var ErrProtocol = errors.New("stream protocol violation")

type tcpStream struct {
	s  *tcpSession
	st *yamux.Stream

	ctx    context.Context // Stream.Context
	cancel context.CancelFunc

	// Reader state, touched only by the (single) reader.
	left int // data bytes left in the current frame
	hdr  [frameHdr]byte
	hdrN int

	// Writer state, touched only by the holder of wbusy.
	wbuf    []byte
	pending []byte // rest of a frame a deadline interrupted

	mu       sync.Mutex
	reading  bool  // a Read is in progress
	readErr  error // what Read returns from now on
	readDone bool
	draining bool  // drain runs: the read direction ends with it
	stopErr  error // the other side cancelled reading: writes fail
	wbusy    bool  // a goroutine is writing
	wcancel  *StreamError
	wDone    bool // write direction closed (yamux close sent)

	incoming  bool // opened by the other side, counted in its credit
	forgotten bool // both directions done and accounted for
	rawEnd    bool // yamux's read side ended (reader only, then the drain)
}

// readFrames reads data into p. It returns io.EOF at the other side's
// orderly end and a remote StreamError at a frReset.
func (t *tcpStream) readFrames(p []byte) (int, error) {
	for {
		if t.left > 0 {
			n, err := t.st.Read(p[:min(len(p), t.left)])
			t.left -= n
			if n > 0 {
				return n, nil
			}
			return 0, t.readError(err, true)
		}
		for t.hdrN < frameHdr {
			n, err := t.st.Read(t.hdr[t.hdrN:])
			t.hdrN += n
			if err != nil {
				return 0, t.readError(err, t.hdrN > 0)
			}
		}
		t.hdrN = 0
		v := binary.BigEndian.Uint32(t.hdr[1:])
		switch t.hdr[0] {
		case frData:
			if v > maxFrame {
				return 0, fmt.Errorf("%w: data frame of %d bytes", ErrProtocol, v)
			}
			t.left = int(v)
		case frReset:
			return 0, &StreamError{Code: StreamCode(v), Remote: true}
		default:
			return 0, fmt.Errorf("%w: frame type %d", ErrProtocol, t.hdr[0])
		}
	}
}

// readError maps a yamux read error: the end of a session becomes its
// cause, an end inside a frame io.ErrUnexpectedEOF.
func (t *tcpStream) readError(err error, midFrame bool) error {
	if !errors.Is(err, yamux.ErrTimeout) {
		t.rawEnd = true
	}
	if t.s.mux.IsClosed() {
		return t.s.sessionErr(err)
	}
	if err == io.EOF && midFrame {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (t *tcpStream) Read(p []byte) (int, error) {
	t.mu.Lock()
	if t.readErr != nil {
		err := t.readErr
		t.mu.Unlock()
		return 0, err
	}
	t.reading = true
	t.mu.Unlock()

	n, err := t.readFrames(p)
	t.mu.Lock()
	t.reading = false
	if t.readErr != nil { // CancelRead woke us
		n, err = 0, t.readErr
	} else if err != nil && !errors.Is(err, yamux.ErrTimeout) {
		t.readErr = err
	}
	end := t.readErr != nil && !t.readDone && !t.draining
	t.mu.Unlock()
	if end {
		t.endRead()
	}
	return n, err
}

// endRead finishes the read direction once nothing more will be read:
// at once if yamux's read side has ended, else after a drain (see drain).
func (t *tcpStream) endRead() {
	if t.rawEnd || t.s.ctx.Err() != nil {
		t.mu.Lock()
		t.readDone = true
		t.mu.Unlock()
		t.s.maybeForget(t)
		return
	}
	t.mu.Lock()
	t.draining = true
	t.mu.Unlock()
	t.s.wg.Go(t.drain)
}

// drain reads and discards what the other side still sends on a stream
// whose reading was abandoned (CancelRead, a broken frame), until its
// orderly end or reset, releasing yamux's buffer as it empties: yamux
// grants a stream's whole window whatever is read, so an abandoned stream
// left unread would hold up to a window of the other side's data until
// yamux's close timeout (5 minutes) while its credit was already given
// back. The stream counts against the other side's credit until the drain
// ends, as a QUIC stream counts until the other side resets it.
func (t *tcpStream) drain() {
	_ = t.st.SetReadDeadline(time.Time{})
	var buf [16 << 10]byte
	for {
		_, err := t.st.Read(buf[:])
		t.st.Shrink()
		if err != nil && !errors.Is(err, yamux.ErrTimeout) {
			break
		}
	}
	t.mu.Lock()
	t.readDone = true
	t.mu.Unlock()
	t.s.maybeForget(t)
}

// CancelRead implements Stream.
func (t *tcpStream) CancelRead(code StreamCode) {
	t.mu.Lock()
	if t.readErr != nil {
		t.mu.Unlock()
		return
	}
	t.readErr = &StreamError{Code: code}
	reading := t.reading
	end := !reading && !t.readDone && !t.draining
	t.mu.Unlock()
	t.s.sendStop(t.st.StreamID(), code)
	if reading {
		_ = t.st.SetReadDeadline(time.Now()) // the Read returns the cancellation, then ends the direction
	}
	if end {
		t.endRead()
	}
}

// stopped records the other side's CancelRead and wakes a blocked writer.
func (t *tcpStream) stopped(code StreamCode) {
	t.mu.Lock()
	if t.stopErr == nil {
		t.stopErr = &StreamError{Code: code, Remote: true}
	}
	busy := t.wbusy
	// Not writing: end the write direction now, as a QUIC stack resets a
	// stream the other side stopped reading (the other side's drain ends).
	finish := !busy && !t.wDone && t.wcancel == nil
	t.wDone = t.wDone || finish
	t.mu.Unlock()
	t.cancel()
	if busy {
		_ = t.st.SetWriteDeadline(time.Now())
	}
	if finish {
		_ = t.st.Close()
		t.s.maybeForget(t)
	}
}

// acquireWrite marks the writer busy, or returns why it may not write.
func (t *tcpStream) acquireWrite() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.wcancel != nil:
		return t.wcancel
	case t.stopErr != nil:
		return t.stopErr
	case t.wDone:
		return fmt.Errorf("write on closed stream: %w", io.ErrClosedPipe)
	case t.wbusy:
		return errors.New("concurrent write on stream")
	}
	t.wbusy = true
	return nil
}

// writeFrame writes one frame, after the rest of an interrupted one. queued
// reports whether the frame is sent or its rest waits in pending (to go
// first at the next write or Close).
func (t *tcpStream) writeFrame(typ byte, v uint32, data []byte) (queued bool, err error) {
	if len(t.pending) > 0 {
		n, err := t.st.Write(t.pending)
		t.pending = t.pending[n:]
		if err != nil {
			return false, t.s.sessionErr(err)
		}
	}
	if cap(t.wbuf) < frameHdr+len(data) {
		t.wbuf = make([]byte, frameHdr+min(maxFrame, max(len(data), 4<<10)))
	}
	f := t.wbuf[:frameHdr+len(data)]
	f[0] = typ
	binary.BigEndian.PutUint32(f[1:], v)
	copy(f[frameHdr:], data)
	n, err := t.st.Write(f)
	if err != nil {
		t.pending = f[n:]
		return true, t.s.sessionErr(err)
	}
	return true, nil
}

// Write implements Stream.
func (t *tcpStream) Write(p []byte) (int, error) {
	if err := t.acquireWrite(); err != nil {
		return 0, err
	}
	written := 0
	var err error
	for len(p) > 0 && err == nil {
		chunk := p[:min(len(p), maxFrame)]
		var queued bool
		if queued, err = t.writeFrame(frData, uint32(len(chunk)), chunk); queued {
			written += len(chunk)
		}
		p = p[len(chunk):]
	}
	return written, t.releaseWrite(err)
}

// releaseWrite ends a write: after a CancelWrite it sends the frReset and
// closes the direction, after the other side's CancelRead it closes it.
func (t *tcpStream) releaseWrite(err error) error {
	t.mu.Lock()
	cancel, stop := t.wcancel, t.stopErr
	finish := (cancel != nil || stop != nil) && !t.wDone
	t.wDone = t.wDone || finish
	t.wbusy = false
	t.mu.Unlock()
	if finish {
		t.cancel()
		if cancel != nil {
			_ = t.st.SetWriteDeadline(time.Now().Add(closeGrace))
			_, _ = t.writeFrame(frReset, uint32(cancel.Code), nil)
		}
		_ = t.st.Close()
		t.s.maybeForget(t)
	}
	switch {
	case cancel != nil:
		return cancel
	case stop != nil:
		return stop
	}
	return err
}

// Close implements Stream.
func (t *tcpStream) Close() error {
	t.mu.Lock()
	switch {
	case t.wDone || t.wcancel != nil:
		t.mu.Unlock()
		return nil
	case t.wbusy:
		t.mu.Unlock()
		return errors.New("close during a write on stream")
	}
	t.wbusy = true
	stopped := t.stopErr != nil
	t.mu.Unlock()
	if stopped { // nothing more to say to a reader that left
		_ = t.releaseWrite(nil)
		return nil
	}
	var err error
	if len(t.pending) > 0 {
		_, err = t.st.Write(t.pending)
		t.pending = nil
	}
	t.mu.Lock()
	t.wDone = true
	t.wbusy = false
	t.mu.Unlock()
	t.cancel()
	if cerr := t.st.Close(); err == nil {
		err = cerr
	}
	t.s.maybeForget(t)
	return t.s.sessionErr(err)
}

// CancelWrite implements Stream.
func (t *tcpStream) CancelWrite(code StreamCode) {
	t.mu.Lock()
	if t.wDone || t.wcancel != nil {
		t.mu.Unlock()
		return
	}
	t.wcancel = &StreamError{Code: code}
	busy := t.wbusy
	t.wbusy = true
	t.mu.Unlock()
	if busy { // the writer sends the frReset when it returns
		_ = t.st.SetWriteDeadline(time.Now())
		return
	}
	_ = t.releaseWrite(nil)
}

// Context implements Stream.
func (t *tcpStream) Context() context.Context { return t.ctx }

func (t *tcpStream) SetReadDeadline(d time.Time) error  { return t.st.SetReadDeadline(d) }
func (t *tcpStream) SetWriteDeadline(d time.Time) error { return t.st.SetWriteDeadline(d) }
func (t *tcpStream) SetDeadline(d time.Time) error      { return t.st.SetDeadline(d) }
