package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// Each direction of a TCP stream is a sequence of frames, a type byte and a
// uint32 (big endian): frData (the uint32 is the length of the data that
// follows, at most maxFrame), frEnd (orderly end: Close), frReset (the code
// of CancelWrite), frStop (the code of CancelRead, travelling against the
// data it stops). The yamux stream itself is closed only when both
// directions are done, so that a frStop can still follow a frEnd.
const (
	frData  = 0
	frEnd   = 1
	frReset = 2
	frStop  = 3

	frameHdr = 5
	maxFrame = 256 << 10
)

// ErrProtocol: the other side broke the framing of a TCP stream.
var ErrProtocol = errors.New("stream protocol violation")

type tcpStream struct {
	s  *tcpSession
	st *yamux.Stream

	// Reader state, touched only by whoever reads (one app Read at a time,
	// then the tail reader).
	left int // data bytes left in the current frame
	hdr  [frameHdr]byte
	hdrN int

	// Writer state, touched only by the holder of wbusy.
	wbuf    []byte
	pending []byte // rest of a frame a deadline interrupted

	mu       sync.Mutex
	reading  bool  // an app Read is in progress
	readDone bool  // the app's read side is finished; the tail reader owns reading
	readErr  error // what Read returns from now on
	stopErr  error // the other side cancelled reading: writes fail
	wbusy    bool  // a goroutine is writing frames
	wcancel  *StreamError
	stopCode *StreamCode // a frStop to send
	wDone    bool        // frEnd or frReset sent (or the write side given up)
	closed   bool        // yamux stream closed
	wdl      time.Time   // the app's write deadline, restored after control frames
}

func newTCPStream(s *tcpSession, st *yamux.Stream) *tcpStream {
	return &tcpStream{s: s, st: st}
}

// readFrames reads data into p, handling control frames on the way. It
// returns io.EOF at a frEnd and a remote StreamError at a frReset.
func (t *tcpStream) readFrames(p []byte) (int, error) {
	for {
		if t.left > 0 {
			n, err := t.st.Read(p[:min(len(p), t.left)])
			t.left -= n
			if n > 0 {
				return n, nil
			}
			if err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, t.s.sessionErr(err)
		}
		for t.hdrN < frameHdr {
			n, err := t.st.Read(t.hdr[t.hdrN:])
			t.hdrN += n
			if err == io.EOF && t.hdrN == 0 {
				return 0, errYamuxEOF
			} else if err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			} else if err != nil {
				return 0, t.s.sessionErr(err)
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
		case frEnd:
			return 0, io.EOF
		case frReset:
			return 0, &StreamError{Code: StreamCode(v), Remote: true}
		case frStop:
			t.mu.Lock()
			if t.stopErr == nil {
				t.stopErr = &StreamError{Code: StreamCode(v), Remote: true}
			}
			t.mu.Unlock()
		default:
			return 0, fmt.Errorf("%w: frame type %d", ErrProtocol, t.hdr[0])
		}
	}
}

// errYamuxEOF: the other side closed the yamux stream at a frame boundary.
var errYamuxEOF = errors.New("yamux stream closed")

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
	if err == errYamuxEOF {
		err = io.ErrUnexpectedEOF
	}
	t.mu.Lock()
	t.reading = false
	if t.readErr != nil { // CancelRead woke us
		n, err = 0, t.readErr
	}
	if err != nil && !isTimeout(err) {
		t.readErr = err
		t.mu.Unlock()
		t.finishRead()
		return n, err
	}
	t.mu.Unlock()
	return n, err
}

func isTimeout(err error) bool { return errors.Is(err, yamux.ErrTimeout) }

// finishRead hands reading over to the tail reader, which discards data and
// watches for frStop until the other side closes the yamux stream.
func (t *tcpStream) finishRead() {
	t.mu.Lock()
	if t.readDone {
		t.mu.Unlock()
		return
	}
	t.readDone = true
	t.mu.Unlock()
	t.s.startTail(t.tail)
	t.maybeClose()
}

func (t *tcpStream) tail() {
	_ = t.st.SetReadDeadline(time.Time{})
	buf := make([]byte, 4<<10)
	for {
		_, err := t.readFrames(buf)
		var se *StreamError
		if err == nil || err == io.EOF || errors.As(err, &se) {
			continue
		}
		return
	}
}

// CancelRead implements Stream.
func (t *tcpStream) CancelRead(code StreamCode) {
	t.mu.Lock()
	if t.readDone || t.readErr != nil {
		t.mu.Unlock()
		return
	}
	t.readErr = &StreamError{Code: code}
	reading := t.reading
	t.stopCode = &code
	send := !t.wbusy
	if send {
		t.wbusy = true
	}
	t.mu.Unlock()
	if send { // else the busy writer sends it
		t.releaseWrite(time.Now().Add(closeGrace))
	}
	if reading {
		_ = t.st.SetReadDeadline(time.Now()) // the Read returns and calls finishRead
	} else {
		t.finishRead()
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

// releaseWrite sends what others left to the writer (a frStop, the frReset
// of a CancelWrite during the write) and clears wbusy.
func (t *tcpStream) releaseWrite(deadline time.Time) {
	for {
		t.mu.Lock()
		stop, reset := t.stopCode, t.wcancel != nil && !t.wDone
		t.stopCode = nil
		if stop == nil && !reset {
			t.wbusy = false
			t.mu.Unlock()
			t.maybeClose()
			return
		}
		var code StreamCode
		if reset {
			code = t.wcancel.Code
			t.wDone = true
		}
		appDeadline := t.wdl
		t.mu.Unlock()
		_ = t.st.SetWriteDeadline(deadline)
		if stop != nil {
			_ = t.writeFrame(frStop, uint32(*stop), nil)
		}
		if reset {
			_ = t.writeFrame(frReset, uint32(code), nil)
		}
		_ = t.st.SetWriteDeadline(appDeadline)
	}
}

// writeFrame writes one frame, after the rest of an interrupted one.
func (t *tcpStream) writeFrame(typ byte, v uint32, data []byte) error {
	if len(t.pending) > 0 {
		n, err := t.st.Write(t.pending)
		t.pending = t.pending[n:]
		if err != nil {
			return t.s.sessionErr(err)
		}
	}
	if cap(t.wbuf) < frameHdr+len(data) {
		t.wbuf = make([]byte, frameHdr+maxFrame)
	}
	f := t.wbuf[:frameHdr+len(data)]
	f[0] = typ
	binary.BigEndian.PutUint32(f[1:], v)
	copy(f[frameHdr:], data)
	n, err := t.st.Write(f)
	if err != nil {
		t.pending = f[n:]
		return t.s.sessionErr(err)
	}
	return nil
}

// Write implements Stream.
func (t *tcpStream) Write(p []byte) (int, error) {
	if err := t.acquireWrite(); err != nil {
		return 0, err
	}
	written := 0
	var err error
	for len(p) > 0 {
		t.mu.Lock()
		if t.wcancel != nil {
			err = t.wcancel
		} else if t.stopErr != nil {
			err = t.stopErr
		}
		t.mu.Unlock()
		if err != nil {
			break
		}
		chunk := p[:min(len(p), maxFrame)]
		if err = t.writeFrame(frData, uint32(len(chunk)), chunk); err != nil {
			if len(t.pending) < len(chunk) { // the data is sent or buffered
				written += len(chunk)
			}
			break
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	t.mu.Lock()
	if t.wcancel != nil {
		err = t.wcancel
	}
	t.mu.Unlock()
	t.releaseWrite(time.Now().Add(closeGrace))
	return written, err
}

// Close implements Stream.
func (t *tcpStream) Close() error {
	t.mu.Lock()
	if t.wDone || t.wcancel != nil {
		t.mu.Unlock()
		return nil
	}
	t.mu.Unlock()
	if err := t.acquireWrite(); err != nil {
		return err
	}
	err := t.writeFrame(frEnd, 0, nil)
	t.mu.Lock()
	t.wDone = true
	t.mu.Unlock()
	t.releaseWrite(time.Now().Add(closeGrace))
	return err
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
	t.releaseWrite(time.Now().Add(closeGrace))
}

// maybeClose closes the yamux stream once both directions are done.
func (t *tcpStream) maybeClose() {
	t.mu.Lock()
	if t.closed || !t.readDone || !t.wDone || t.wbusy {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.mu.Unlock()
	_ = t.st.Close()
}

func (t *tcpStream) SetReadDeadline(d time.Time) error { return t.st.SetReadDeadline(d) }

func (t *tcpStream) SetWriteDeadline(d time.Time) error {
	t.mu.Lock()
	t.wdl = d
	t.mu.Unlock()
	return t.st.SetWriteDeadline(d)
}

func (t *tcpStream) SetDeadline(d time.Time) error {
	_ = t.SetWriteDeadline(d)
	return t.st.SetReadDeadline(d)
}
