package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// DefaultLimit is the frame limit used by the protocols unless they say
// otherwise: room for one 16 MiB piece plus its header.
const DefaultLimit = 16<<20 + 4096

// Step is the most a reader allocates for a frame body ahead of the bytes
// that actually arrived: a body is read in steps of at most Step bytes and
// its buffer grows only as they come. A frame's length prefix is a claim
// by the sender; trusting it would let a hostile sender make the reader
// allocate its whole limit (tens of MiB at the tracker) by sending four
// bytes, once per stream.
const Step = 64 << 10

var (
	// ErrTooLarge is returned for a frame longer than the reader's limit.
	ErrTooLarge = errors.New("wire: frame too large")
	// ErrTruncated is returned when the stream ends inside a frame.
	ErrTruncated = errors.New("wire: stream ended inside a frame")
	// ErrMalformed is returned when a frame body is not a valid message.
	ErrMalformed = errors.New("wire: malformed message")
)

// Write encodes m and writes it to w as one frame. It does not flush or close w.
func Write(w io.Writer, m proto.Message) error {
	body, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("wire: encode %T: %w", m, err)
	}
	return WriteBytes(w, body)
}

// AppendFrame appends m's frame (length prefix and encoding) to dst, for a
// caller that writes it together with more bytes in one Write.
func AppendFrame(dst []byte, m proto.Message) ([]byte, error) {
	body, err := proto.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("wire: encode %T: %w", m, err)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

// WriteBytes writes body as one frame with a single Write call.
func WriteBytes(w io.Writer, body []byte) error {
	buf := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("wire: write frame: %w", err)
	}
	return nil
}

// ReadLength reads the 4-byte length prefix of the next frame and checks
// it against limit; nothing of the body is read. It returns io.EOF only
// when the stream ends cleanly before the first byte of a frame, and an
// error wrapping ErrTooLarge (with the declared length) for a frame over
// the limit. A caller that must admit a body before reading it (a memory
// budget) calls ReadLength, then ReadBody.
func ReadLength(r io.Reader, limit int) (int, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, ErrTruncated
		}
		return 0, fmt.Errorf("wire: read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	return int(n), nil
}

// ReadBody reads the n-byte body of a frame whose length ReadLength has
// returned. It reads in steps of at most Step bytes and grows its buffer
// only as they arrive (doubling, never past n), so a sender that declares
// a large frame and sends little costs about what it sent.
func ReadBody(r io.Reader, n int) ([]byte, error) {
	body := make([]byte, 0, min(n, Step))
	for len(body) < n {
		if len(body) == cap(body) {
			grown := make([]byte, len(body), min(n, 2*cap(body)))
			copy(grown, body)
			body = grown
		}
		end := min(cap(body), len(body)+Step)
		got, err := io.ReadFull(r, body[len(body):end])
		body = body[:len(body)+got]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, ErrTruncated
			}
			return nil, fmt.Errorf("wire: read frame body: %w", err)
		}
	}
	return body, nil
}

// ReadBytes reads one frame body of at most limit bytes (ReadLength, then
// ReadBody). It returns io.EOF only when the stream ends cleanly before the
// first byte of a frame.
func ReadBytes(r io.Reader, limit int) ([]byte, error) {
	n, err := ReadLength(r, limit)
	if err != nil {
		return nil, err
	}
	return ReadBody(r, n)
}

// Read reads one frame of at most limit bytes and decodes it into m.
func Read(r io.Reader, m proto.Message, limit int) error {
	body, err := ReadBytes(r, limit)
	if err != nil {
		return err
	}
	return Decode(body, m)
}

// Decode decodes a frame body read by ReadBody into m; an invalid body
// gives an error wrapping ErrMalformed.
func Decode(body []byte, m proto.Message) error {
	if err := proto.Unmarshal(body, m); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrMalformed, m, err)
	}
	return nil
}
