package transfer

import (
	"errors"
	"fmt"
	"io"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// Protocol limits (see peer/peerpb/peer.proto).
const (
	// MaxRequestFrame bounds a Request frame.
	MaxRequestFrame = 64 << 10
	// MaxResponseFrame bounds a Response frame (without the raw data).
	MaxResponseFrame = 4 << 10
	// MaxPieceLen bounds the raw data of one piece.
	MaxPieceLen = manifest.MaxPieceSize
	// maxMessage bounds Response.message.
	maxMessage = 256
)

// QUIC application error codes. Stream codes are used when resetting a
// stream; connection codes when closing a connection.
const (
	codeCancelled quic.StreamErrorCode = 1 // requester gave up on the request
	codeBadStream quic.StreamErrorCode = 2 // the stream broke the protocol

	codeNormal    quic.ApplicationErrorCode = 0 // orderly close
	codeForbidden quic.ApplicationErrorCode = 2 // not a member
)

// pieceRequest is a validated PieceRequest.
type pieceRequest struct {
	hash   manifest.ID
	length int
}

// parsePieceRequest validates a decoded piece request. It returns an error
// wrapping ErrBadRequest for anything out of limits.
func parsePieceRequest(p *peerpb.PieceRequest) (pieceRequest, error) {
	if len(p.GetHash()) != manifest.IDSize {
		return pieceRequest{}, fmt.Errorf("%w: hash is %d bytes, want %d", ErrBadRequest, len(p.GetHash()), manifest.IDSize)
	}
	if p.GetLength() == 0 || p.GetLength() > MaxPieceLen {
		return pieceRequest{}, fmt.Errorf("%w: length %d outside 1..%d", ErrBadRequest, p.GetLength(), MaxPieceLen)
	}
	return pieceRequest{hash: manifest.ID(p.GetHash()), length: int(p.GetLength())}, nil
}

// writePieceRequest writes the single request frame of a piece request.
func writePieceRequest(w io.Writer, h manifest.ID, length int) error {
	return wire.Write(w, &peerpb.Request{Body: &peerpb.Request_Piece{Piece: &peerpb.PieceRequest{
		Hash: h[:], Length: uint32(length),
	}}})
}

// writeStatus writes an error response frame.
func writeStatus(w io.Writer, st peerpb.Status, msg string) error {
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	return wire.Write(w, &peerpb.Response{Status: st, Message: msg})
}

// readResponse reads and checks the response frame of a piece request of
// the given length. A non-OK status gives the matching sentinel error.
func readResponse(r io.Reader, length int) error {
	var resp peerpb.Response
	if err := wire.Read(r, &resp, MaxResponseFrame); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: stream ended before the response", ErrProtocol)
		}
		if errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrTruncated) {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		return err
	}
	if resp.GetStatus() != peerpb.Status_STATUS_OK {
		return statusError(&resp)
	}
	if int(resp.GetLength()) != length {
		return fmt.Errorf("%w: response announces %d bytes, want %d", ErrProtocol, resp.GetLength(), length)
	}
	return nil
}
