package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

const (
	// requestTimeout bounds how long a server waits for a request frame
	// (and the end of the requester's side) on a new stream.
	requestTimeout = 10 * time.Second
	// stallTimeout bounds how long one chunk of a response may wait for
	// the requester to make room (QUIC flow control).
	stallTimeout = 30 * time.Second
	// writeChunk is the unit of response writes.
	writeChunk = 256 << 10
)

// serveStream answers the single request of one stream and closes it.
// Every request kind is dispatched here; a new kind (the piece-level delta
// of docs/ARCHITECTURE.md §6) is one more case with its own serve function built from
// withLimits and sendData.
func (s *Server) serveStream(str transport.Stream, id identity.DeviceID, rem *remote) {
	_ = str.SetReadDeadline(time.Now().Add(s.cfg.requestTimeout))
	req, release, err := readRequest(str, func(n int) (func(), error) { return s.admitRequest(rem, n) })
	if err != nil {
		switch {
		case errors.Is(err, io.EOF):
			str.CancelRead(codeBadStream)
			_ = str.Close()
		case errors.Is(err, ErrBusy):
			s.log.Debug("request refused unread", "device", id.Short(), "err", err)
			s.refuse(str, peerpb.Status_STATUS_BUSY, err.Error())
		default:
			s.log.Debug("bad request", "device", id.Short(), "err", err)
			s.refuse(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
		}
		return
	}
	defer release()
	src, auth, ok := s.folders.Folder(req.GetFolder())
	if !ok || !auth(id) {
		s.log.Info("refused a request for a folder the device is not a peer of", "device", id.Short(), "folder", req.GetFolder())
		s.refuse(str, peerpb.Status_STATUS_FORBIDDEN, fmt.Sprintf("not a peer of folder %q here", req.GetFolder()))
		return
	}
	var serve func(context.Context) error
	switch body := req.GetBody().(type) {
	case *peerpb.Request_Piece:
		pr, err := parsePieceRequest(body.Piece)
		if err != nil {
			s.refuse(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
			return
		}
		serve = func(ctx context.Context) error { return s.servePiece(ctx, str, rem, src, pr) }
	case *peerpb.Request_Delta:
		dr, err := parseDeltaRequest(body.Delta)
		if err != nil {
			s.refuse(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
			return
		}
		serve = func(ctx context.Context) error { return s.serveDelta(ctx, str, rem, src, dr) }
	case *peerpb.Request_Have: // swarm_protocol.go
		serve = func(ctx context.Context) error { return s.serveHave(ctx, str, rem, src, body.Have) }
	default:
		s.refuse(str, peerpb.Status_STATUS_BAD_REQUEST, fmt.Sprintf("%v: unknown request kind", ErrBadRequest))
		return
	}
	if err := serve(str.Context()); err != nil {
		s.log.Debug("serving request failed", "device", id.Short(), "err", err)
		str.CancelWrite(codeCancelled)
		return
	}
	_ = str.Close()
}

// decodeRequest reads one request frame and the end of the stream after it,
// without a memory budget (readRequest with one that admits everything).
func decodeRequest(r io.Reader) (*peerpb.Request, error) {
	req, _, err := readRequest(r, func(int) (func(), error) { return func() {}, nil })
	return req, err
}

// readRequest reads one request frame and the end of the stream after it.
// admit is asked for the frame's declared length before its body is read:
// its error (wrapped with ErrBusy) refuses the request unread; on success
// the caller calls the release it returned when done with the request. It
// returns io.EOF for a stream that ended before any byte, and errors
// wrapping ErrBadRequest for anything that is not exactly one frame within
// limits.
func readRequest(r io.Reader, admit func(n int) (func(), error)) (*peerpb.Request, func(), error) {
	n, err := wire.ReadLength(r, MaxRequestFrame)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, io.EOF
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	release, err := admit(n)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	req, err := readRequestBody(r, n)
	if err != nil {
		release()
		return nil, nil, err
	}
	return req, release, nil
}

// readRequestBody reads and checks the n-byte body of a request frame and
// the end of the stream after it.
func readRequestBody(r io.Reader, n int) (*peerpb.Request, error) {
	body, err := wire.ReadBody(r, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	var req peerpb.Request
	if err := wire.Decode(body, &req); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if len(req.GetFolder()) > MaxFolderName {
		return nil, fmt.Errorf("%w: folder name of %d bytes (limit %d)", ErrBadRequest, len(req.GetFolder()), MaxFolderName)
	}
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n != 0 || !errors.Is(err, io.EOF) {
		if n != 0 {
			err = errors.New("data after the request frame")
		}
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return &req, nil
}

// refuse answers an error status and closes the stream both ways.
func (s *Server) refuse(str transport.Stream, st peerpb.Status, msg string) {
	str.CancelRead(codeBadStream)
	_ = str.SetWriteDeadline(time.Now().Add(requestTimeout))
	if err := writeStatus(str, st, msg); err != nil {
		str.CancelWrite(codeBadStream)
		return
	}
	_ = str.Close()
}

// withLimits runs fn holding one of the remote's request slots and n bytes
// of the remote's and the server's memory budgets (at most the remote's
// whole budget).
func (s *Server) withLimits(ctx context.Context, rem *remote, n int64, fn func() error) error {
	n = min(n, s.cfg.remoteMemory)
	if err := rem.reqs.Acquire(ctx, 1); err != nil {
		return err
	}
	defer rem.reqs.Release(1)
	if err := rem.mem.Acquire(ctx, n); err != nil {
		return err
	}
	defer rem.mem.Release(n)
	if err := s.mem.Acquire(ctx, n); err != nil {
		return err
	}
	defer s.mem.Release(n)
	return fn()
}

// servePiece reads the piece under the limits and sends it.
func (s *Server) servePiece(ctx context.Context, str transport.Stream, rem *remote, src PieceSource, req pieceRequest) error {
	return s.withLimits(ctx, rem, int64(req.length), func() error {
		buf := s.bufs.get(req.length)
		defer s.bufs.put(buf)
		data, ok, err := readRequested(str, src, req.hash, req.length, buf)
		if !ok {
			return err
		}
		if err := s.sendData(ctx, str, data); err != nil {
			return err
		}
		s.served(false, len(data))
		return nil
	})
}

// readRequested reads the requested piece from src into buf. When this peer cannot
// serve it (unknown, or not length bytes) it answers NOT_FOUND on str and
// returns ok false with that write's error.
func readRequested(str transport.Stream, src PieceSource, h manifest.ID, length int, buf []byte) (data []byte, ok bool, err error) {
	data, err = src.ReadPiece(h, buf)
	if err != nil {
		return nil, false, writeStatus(str, peerpb.Status_STATUS_NOT_FOUND, "piece not available")
	}
	if len(data) != length {
		return nil, false, writeStatus(str, peerpb.Status_STATUS_NOT_FOUND,
			fmt.Sprintf("piece is %d bytes, not %d", len(data), length))
	}
	return data, true, nil
}

// sendData writes an OK response announcing len(data) bytes, then the
// bytes, under the send limit (WithBandwidth). It writes in chunks, each
// with its own deadline, so a requester that stops reading (flow control
// never opens) frees its slot after stallTimeout. The response frame and
// the first chunk go in one write (which the send limit's waits may
// split): over TCP each write is one yamux frame, and yamux sizes a
// stream's receive buffer by its first frame, so a small one made that
// buffer grow by reallocation under every piece (12 % of a receiver's CPU;
// BenchmarkTransferProcesses/tcp 313-354 MB/s before, 379-475 after).
func (s *Server) sendData(ctx context.Context, str transport.Stream, data []byte) error {
	_ = str.SetWriteDeadline(time.Now().Add(stallTimeout))
	resp := &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: uint32(len(data))}
	n := min(len(data), writeChunk-MaxResponseFrame)
	scratch := s.bufs.get(MaxResponseFrame + n)
	first, err := wire.AppendFrame(scratch[:0], resp)
	if err == nil {
		first = append(first, data[:n]...)
		_, err = str.Write(first)
	}
	s.bufs.put(scratch)
	if err != nil {
		return err
	}
	data = data[n:]
	for len(data) > 0 {
		c := data[:min(len(data), writeChunk)]
		_ = str.SetWriteDeadline(time.Now().Add(stallTimeout))
		if _, err := str.Write(c); err != nil {
			return err
		}
		data = data[len(c):]
	}
	return nil
}
