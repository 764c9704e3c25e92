package transfer

import (
	"errors"
	"fmt"
	"io"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// Protocol limits (see peer/peerpb/peer.proto).
const (
	// MaxSignature bounds the signature of a delta request.
	MaxSignature = 512 << 10
	// MaxRequestFrame bounds a Request frame.
	MaxRequestFrame = MaxSignature + 1<<10
	// MaxResponseFrame bounds a Response frame (without the raw data).
	MaxResponseFrame = 4 << 10
	// MaxPieceLen bounds the raw data of one piece.
	MaxPieceLen = manifest.MaxPieceSize
	// maxMessage bounds Response.message.
	maxMessage = 256
	// MaxFolderName bounds Request.folder (the tracker's folder name limit).
	MaxFolderName = 255
)

// Application error codes (QUIC and TCP alike). Stream codes are used when resetting a
// stream; connection codes when closing a connection.
const (
	codeCancelled transport.StreamCode = 1 // requester gave up on the request
	codeBadStream transport.StreamCode = 2 // the stream broke the protocol

	codeNormal    transport.ErrorCode = 0 // orderly close
	codeForbidden transport.ErrorCode = 2 // not a member
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
func writePieceRequest(w io.Writer, folder string, h manifest.ID, length int) error {
	return wire.Write(w, &peerpb.Request{Folder: folder, Body: &peerpb.Request_Piece{Piece: &peerpb.PieceRequest{
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
	n, err := readDataResponse(r, MaxPieceLen+delta.MaxDeltaOverhead)
	if err != nil {
		return err
	}
	if n != length {
		return fmt.Errorf("%w: response announces %d bytes, want %d", ErrProtocol, n, length)
	}
	return nil
}

// deltaRequest is a validated DeltaRequest.
type deltaRequest struct {
	pieceRequest
	sig *delta.Signature
}

// parseDeltaRequest validates a decoded delta request, signature included.
// It returns an error wrapping ErrBadRequest for anything out of limits.
func parseDeltaRequest(d *peerpb.DeltaRequest) (deltaRequest, error) {
	pr, err := parsePieceRequest(&peerpb.PieceRequest{Hash: d.GetHash(), Length: d.GetLength()})
	if err != nil {
		return deltaRequest{}, err
	}
	if len(d.GetSignature()) > MaxSignature {
		return deltaRequest{}, fmt.Errorf("%w: signature of %d bytes (limit %d)", ErrBadRequest, len(d.GetSignature()), MaxSignature)
	}
	var sig delta.Signature
	if err := sig.UnmarshalBinary(d.GetSignature()); err != nil {
		return deltaRequest{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return deltaRequest{pieceRequest: pr, sig: &sig}, nil
}

// writeDeltaRequest writes the single request frame of a delta request.
func writeDeltaRequest(w io.Writer, folder string, h manifest.ID, length int, sig []byte) error {
	return wire.Write(w, &peerpb.Request{Folder: folder, Body: &peerpb.Request_Delta{Delta: &peerpb.DeltaRequest{
		Hash: h[:], Length: uint32(length), Signature: sig,
	}}})
}

// readDataResponse reads the response frame of a request whose data length
// is decided by the server (a delta), at most limit bytes, and returns it.
func readDataResponse(r io.Reader, limit int) (int, error) {
	var resp peerpb.Response
	if err := wire.Read(r, &resp, MaxResponseFrame); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%w: stream ended before the response", ErrProtocol)
		}
		if errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrTruncated) {
			return 0, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		return 0, err
	}
	if resp.GetStatus() != peerpb.Status_STATUS_OK {
		return 0, statusError(&resp)
	}
	if n := int(resp.GetLength()); n <= limit {
		return n, nil
	}
	return 0, fmt.Errorf("%w: response announces %d bytes, limit %d", ErrProtocol, resp.GetLength(), limit)
}
