package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/dartsync/dartsync/manifest"
)

// requestPiece fetches the bytes of piece h (length bytes) over a new stream
// of conn. The returned buffer comes from bufs; the caller puts it back. The
// data is not verified here. Cancelling ctx resets the stream. timeout (if
// positive) bounds the wait for the response and every stall of the data.
func requestPiece(ctx context.Context, conn *quic.Conn, bufs *bufPool, h manifest.ID, length int, timeout time.Duration) ([]byte, error) {
	buf, err := doRequestPiece(ctx, conn, bufs, h, length, timeout)
	if err != nil {
		return nil, classifyRemoteClose(err)
	}
	return buf, nil
}

// classifyRemoteClose turns the server's "forbidden" connection close into
// ErrForbidden.
func classifyRemoteClose(err error) error {
	var appErr *quic.ApplicationError
	if errors.As(err, &appErr) && appErr.Remote && appErr.ErrorCode == codeForbidden {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return err
}

func doRequestPiece(ctx context.Context, conn *quic.Conn, bufs *bufPool, h manifest.ID, length int, timeout time.Duration) ([]byte, error) {
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("transfer: open stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() {
		str.CancelRead(codeCancelled)
		str.CancelWrite(codeCancelled)
	})
	defer stop()
	deadline := func() {
		if timeout > 0 {
			_ = str.SetDeadline(time.Now().Add(timeout))
		}
	}
	deadline()
	if err := writePieceRequest(str, h, length); err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	_ = str.Close()
	if err := readResponse(str, length); err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	buf := bufs.get(length)
	if err := readFullStalling(str, buf, deadline); err != nil {
		bufs.put(buf)
		str.CancelRead(codeCancelled)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: stream ended inside the piece data", ErrProtocol)
		}
		return nil, fmt.Errorf("transfer: read piece data: %w", err)
	}
	var one [1]byte
	if n, err := str.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		bufs.put(buf)
		str.CancelRead(codeCancelled)
		if n != 0 {
			return nil, fmt.Errorf("%w: data after the piece", ErrProtocol)
		}
		return nil, fmt.Errorf("transfer: read end of stream: %w", err)
	}
	return buf, nil
}

// readChunk is the unit after which a read deadline is renewed.
const readChunk = 256 << 10

// readFullStalling fills buf from r, calling renew before every readChunk
// bytes, so the deadline bounds a stall rather than the whole transfer.
func readFullStalling(r io.Reader, buf []byte, renew func()) error {
	for off := 0; off < len(buf); {
		renew()
		n, err := io.ReadFull(r, buf[off:min(len(buf), off+readChunk)])
		off += n
		if err != nil {
			return err
		}
	}
	return nil
}
