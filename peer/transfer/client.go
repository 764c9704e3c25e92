package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/manifest"
)

// requestPiece fetches the bytes of piece h (length bytes) over a new stream
// of conn, for folder. The returned buffer comes from bufs; the caller puts it back. The
// data is not verified here. Cancelling ctx resets the stream. timeout (if
// positive) bounds the wait for the response and every stall of the data.
func requestPiece(ctx context.Context, conn transport.Session, bufs *bufPool, folder string, h manifest.ID, length int, timeout time.Duration) ([]byte, error) {
	buf, err := doRequestPiece(ctx, conn, bufs, folder, h, length, timeout)
	if err != nil {
		return nil, classifyRemoteClose(err)
	}
	return buf, nil
}

// classifyRemoteClose turns the server's "forbidden" connection close into
// ErrForbidden.
func classifyRemoteClose(err error) error {
	if appErr, ok := transport.AsApplicationError(err); ok && appErr.Remote && appErr.Code == codeForbidden {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return err
}

func doRequestPiece(ctx context.Context, conn transport.Session, bufs *bufPool, folder string, h manifest.ID, length int, timeout time.Duration) ([]byte, error) {
	str, deadline, stop, err := openRequestStream(ctx, conn, timeout)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := writePieceRequest(str, folder, h, length); err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	_ = str.Close()
	if err := readResponse(str, length); err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	buf := bufs.get(length)
	if err := readBody(str, buf, deadline, "the piece data"); err != nil {
		bufs.put(buf)
		return nil, err
	}
	return buf, nil
}

// openRequestStream opens the stream of one request on conn. Cancelling ctx
// resets the stream both ways until stop is called (the caller defers it);
// renew pushes the stream's deadline timeout ahead (no deadline when
// timeout <= 0) and has been called once already.
func openRequestStream(ctx context.Context, conn transport.Session, timeout time.Duration) (str transport.Stream, renew func(), stop func() bool, err error) {
	str, err = conn.OpenStream(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("transfer: open stream: %w", err)
	}
	stop = context.AfterFunc(ctx, func() {
		str.CancelRead(codeCancelled)
		str.CancelWrite(codeCancelled)
	})
	renew = func() {
		if timeout > 0 {
			_ = str.SetDeadline(time.Now().Add(timeout))
		}
	}
	renew()
	return str, renew, stop, nil
}

// readBody fills buf from str (renewing the deadline as data arrives) and
// checks that the stream then ends. On error the stream's read side is
// cancelled; what names the body in error messages.
func readBody(str transport.Stream, buf []byte, renew func(), what string) error {
	if err := readFullStalling(str, buf, renew); err != nil {
		str.CancelRead(codeCancelled)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: stream ended inside %s", ErrProtocol, what)
		}
		return fmt.Errorf("transfer: read %s: %w", what, err)
	}
	var one [1]byte
	if n, err := str.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		str.CancelRead(codeCancelled)
		if n != 0 {
			return fmt.Errorf("%w: data after %s", ErrProtocol, what)
		}
		return fmt.Errorf("transfer: read end of stream: %w", err)
	}
	return nil
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
