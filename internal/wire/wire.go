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

// ReadBytes reads one frame body of at most limit bytes. It returns io.EOF
// only when the stream ends cleanly before the first byte of a frame.
func ReadBytes(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, fmt.Errorf("wire: read frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, fmt.Errorf("wire: read frame body: %w", err)
	}
	return body, nil
}

// Read reads one frame of at most limit bytes and decodes it into m.
func Read(r io.Reader, m proto.Message, limit int) error {
	body, err := ReadBytes(r, limit)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(body, m); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrMalformed, m, err)
	}
	return nil
}
