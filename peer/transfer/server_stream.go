package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/peer/peerpb"
)

const (
	// requestTimeout bounds how long a server waits for a request frame
	// (and the end of the requester's side) on a new stream.
	requestTimeout = 10 * time.Second
	// stallTimeout bounds how long one chunk of a response may wait for
	// the requester to make room (QUIC flow control).
	stallTimeout = 30 * time.Second
	// writeChunk is the unit of response writes without a rate limit.
	writeChunk = 256 << 10
)

// serveStream answers the single request of one stream and closes it.
func (s *Server) serveStream(str *quic.Stream, id identity.DeviceID, rem *remote) {
	req, err := readRequest(str)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.log.Debug("bad request", "device", id.Short(), "stream", str.StreamID(), "err", err)
			s.refuse(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
		} else {
			str.CancelRead(codeBadStream)
			_ = str.Close()
		}
		return
	}
	if !s.auth(id) {
		s.refuse(str, peerpb.Status_STATUS_FORBIDDEN, "not a member")
		return
	}
	if !rem.enqueue(s.cfg.remoteQueue) {
		s.refuse(str, peerpb.Status_STATUS_BUSY, "too many requests")
		return
	}
	defer rem.dequeue()
	if err := s.servePiece(str.Context(), str, rem, req); err != nil {
		s.log.Debug("serving piece failed", "device", id.Short(), "piece", req.hash.Short(), "err", err)
		str.CancelWrite(codeCancelled)
		return
	}
	_ = str.Close()
}

// readRequest reads the one request of a stream, within requestTimeout.
func readRequest(str *quic.Stream) (pieceRequest, error) {
	_ = str.SetReadDeadline(time.Now().Add(requestTimeout))
	return decodeRequest(str)
}

// decodeRequest reads one request frame and the end of the stream after it
// and validates the request. It returns io.EOF for a stream that ended
// before any byte, and errors wrapping ErrBadRequest for anything else that
// is not exactly one valid request.
func decodeRequest(r io.Reader) (pieceRequest, error) {
	var req peerpb.Request
	if err := wire.Read(r, &req, MaxRequestFrame); err != nil {
		if errors.Is(err, io.EOF) {
			return pieceRequest{}, io.EOF
		}
		return pieceRequest{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n != 0 || !errors.Is(err, io.EOF) {
		if n != 0 {
			err = errors.New("data after the request frame")
		}
		return pieceRequest{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return parsePieceRequest(&req)
}

// refuse answers an error status and closes the stream both ways.
func (s *Server) refuse(str *quic.Stream, st peerpb.Status, msg string) {
	str.CancelRead(codeBadStream)
	_ = str.SetWriteDeadline(time.Now().Add(requestTimeout))
	if err := writeStatus(str, st, msg); err != nil {
		str.CancelWrite(codeBadStream)
		return
	}
	_ = str.Close()
}

// servePiece reads the piece under the per-remote and server limits and
// writes the response: header frame, then the raw bytes.
func (s *Server) servePiece(ctx context.Context, str *quic.Stream, rem *remote, req pieceRequest) error {
	if err := rem.reqs.Acquire(ctx, 1); err != nil {
		return err
	}
	defer rem.reqs.Release(1)
	n := int64(req.length)
	if err := rem.mem.Acquire(ctx, n); err != nil {
		return err
	}
	defer rem.mem.Release(n)
	if err := s.mem.Acquire(ctx, n); err != nil {
		return err
	}
	defer s.mem.Release(n)

	buf := s.bufs.get(req.length)
	defer s.bufs.put(buf)
	data, err := s.src.ReadPiece(req.hash, buf)
	if err != nil {
		return writeStatus(str, peerpb.Status_STATUS_NOT_FOUND, "piece not available")
	}
	if len(data) != req.length {
		return writeStatus(str, peerpb.Status_STATUS_NOT_FOUND,
			fmt.Sprintf("piece is %d bytes, not %d", len(data), req.length))
	}
	if err := wire.Write(str, &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: uint32(len(data))}); err != nil {
		return err
	}
	// Write in chunks, each with its own deadline: a requester that stops
	// reading (flow control never opens) frees the slot after stallTimeout.
	chunk := writeChunk
	if s.limiter != nil {
		chunk = rateChunk
	}
	for len(data) > 0 {
		c := data[:min(len(data), chunk)]
		if s.limiter != nil {
			if err := s.limiter.WaitN(ctx, len(c)); err != nil {
				return err
			}
		}
		_ = str.SetWriteDeadline(time.Now().Add(stallTimeout))
		if _, err := str.Write(c); err != nil {
			return err
		}
		data = data[len(c):]
	}
	return nil
}
