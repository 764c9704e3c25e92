package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/peerpb"
)

// HaveSource is an optional PieceSource method (*chunkstore.Store has it):
// Held returns the bitfield of the pieces of the version with file ID id
// (of pieces pieces) held in a partial download there, piece i being bit
// i%8 of byte i/8 (least significant first); ok is false when it holds
// none. It is called from many goroutines at once and must not block on
// the network. A server whose source lacks it answers every HaveRequest
// NOT_FOUND.
type HaveSource interface {
	Held(id manifest.ID, pieces int) (bits []byte, ok bool)
}

// haveRequest is a validated HaveRequest.
type haveRequest struct {
	id     manifest.ID
	pieces int
}

// bitfieldLen is the byte length of the bitfield of n pieces.
func bitfieldLen(n int) int { return (n + 7) / 8 }

// hasBit reports whether bitfield b has piece i.
func hasBit(b []byte, i int) bool { return i>>3 < len(b) && b[i>>3]&(1<<(i&7)) != 0 }

// parseHaveRequest validates a decoded have request. It returns an error
// wrapping ErrBadRequest for anything out of limits.
func parseHaveRequest(h *peerpb.HaveRequest) (haveRequest, error) {
	if len(h.GetFileId()) != manifest.IDSize {
		return haveRequest{}, fmt.Errorf("%w: file ID is %d bytes, want %d", ErrBadRequest, len(h.GetFileId()), manifest.IDSize)
	}
	if h.GetPieces() == 0 || h.GetPieces() > manifest.MaxPieces {
		return haveRequest{}, fmt.Errorf("%w: piece count %d outside 1..%d", ErrBadRequest, h.GetPieces(), manifest.MaxPieces)
	}
	return haveRequest{id: manifest.ID(h.GetFileId()), pieces: int(h.GetPieces())}, nil
}

// writeHaveRequest writes the single request frame of a have request.
func writeHaveRequest(w io.Writer, folder string, id manifest.ID, pieces int) error {
	return wire.Write(w, &peerpb.Request{Folder: folder, Body: &peerpb.Request_Have{Have: &peerpb.HaveRequest{
		FileId: id[:], Pieces: uint32(pieces),
	}}})
}

// haveStream is what serveHave needs of a request stream.
type haveStream interface {
	io.Writer
	SetWriteDeadline(time.Time) error
}

// serveHave answers a have request: the bitfield of what src holds of the
// version, NOT_FOUND if nothing, BAD_REQUEST if the request is out of
// limits. The answer is not rate-limited (it is at most 128 KiB and says
// where else to fetch from), but held under the remote's memory limits.
func (s *Server) serveHave(ctx context.Context, str haveStream, rem *remote, src PieceSource, body *peerpb.HaveRequest) error {
	req, err := parseHaveRequest(body)
	if err != nil {
		return writeStatus(str, peerpb.Status_STATUS_BAD_REQUEST, err.Error())
	}
	hs, ok := src.(HaveSource)
	var bits []byte
	if ok {
		bits, ok = hs.Held(req.id, req.pieces)
	}
	if !ok || len(bits) != bitfieldLen(req.pieces) {
		return writeStatus(str, peerpb.Status_STATUS_NOT_FOUND, "no piece of this version held")
	}
	return s.withLimits(ctx, rem, int64(len(bits)), func() error {
		_ = str.SetWriteDeadline(time.Now().Add(stallTimeout))
		if err := wire.Write(str, &peerpb.Response{Status: peerpb.Status_STATUS_OK, Length: uint32(len(bits))}); err != nil {
			return err
		}
		_, err := str.Write(bits)
		return err
	})
}

// swarmConn is the pool's connection type.
type swarmConn = transport.Session

// requestHave asks the server on conn which pieces of version id (pieces
// pieces) it holds, for folder: the bitfield (bits past pieces cleared),
// or an error (ErrNotFound: it holds none).
func requestHave(ctx context.Context, conn swarmConn, folder string, id manifest.ID, pieces int, timeout time.Duration) ([]byte, error) {
	str, _, stop, err := openRequestStream(ctx, conn, timeout)
	if err != nil {
		return nil, classifyRemoteClose(err)
	}
	defer stop()
	if err := writeHaveRequest(str, folder, id, pieces); err != nil {
		str.CancelRead(codeCancelled)
		return nil, classifyRemoteClose(err)
	}
	_ = str.Close()
	bits, err := readHave(str, pieces)
	if err != nil {
		str.CancelRead(codeCancelled)
		return nil, classifyRemoteClose(err)
	}
	return bits, nil
}

// readHave reads the answer to a have request for pieces pieces: the
// response frame, the bitfield (its length must be exactly that of
// pieces pieces), and the end of the stream. The bits past pieces are
// cleared.
func readHave(r io.Reader, pieces int) ([]byte, error) {
	want := bitfieldLen(pieces)
	n, err := readDataResponse(r, want)
	if err != nil {
		return nil, err
	}
	if n != want {
		return nil, fmt.Errorf("%w: have answer of %d bytes for %d pieces", ErrProtocol, n, pieces)
	}
	bits := make([]byte, n)
	if _, err := io.ReadFull(r, bits); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: stream ended inside the have bitfield", ErrProtocol)
		}
		return nil, fmt.Errorf("transfer: read have bitfield: %w", err)
	}
	var one [1]byte
	if k, err := r.Read(one[:]); k != 0 || !errors.Is(err, io.EOF) {
		if k != 0 {
			return nil, fmt.Errorf("%w: data after the have bitfield", ErrProtocol)
		}
		return nil, fmt.Errorf("transfer: read end of stream: %w", err)
	}
	if r := pieces % 8; r != 0 {
		bits[n-1] &= byte(1)<<r - 1
	}
	return bits, nil
}
