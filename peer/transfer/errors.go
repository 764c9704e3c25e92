package transfer

import (
	"errors"
	"fmt"

	"github.com/dartsync/dartsync/peer/peerpb"
)

// Sentinel errors; see the package documentation.
var (
	ErrNotFound   = errors.New("transfer: piece not found at source")
	ErrBusy       = errors.New("transfer: source busy")
	ErrForbidden  = errors.New("transfer: forbidden (not a member)")
	ErrBadRequest = errors.New("transfer: source refused the request as malformed")
	ErrProtocol   = errors.New("transfer: protocol violation")
	ErrBadPiece   = errors.New("transfer: piece hash mismatch")
	ErrNoSources  = errors.New("transfer: no usable source left")
	ErrClosed     = errors.New("transfer: closed")
)

// statusError turns a non-OK response into an error wrapping the sentinel
// that matches its status.
func statusError(r *peerpb.Response) error {
	var base error
	switch r.GetStatus() {
	case peerpb.Status_STATUS_NOT_FOUND:
		base = ErrNotFound
	case peerpb.Status_STATUS_BUSY:
		base = ErrBusy
	case peerpb.Status_STATUS_FORBIDDEN:
		base = ErrForbidden
	case peerpb.Status_STATUS_BAD_REQUEST:
		base = ErrBadRequest
	case peerpb.Status_STATUS_INTERNAL:
		return fmt.Errorf("transfer: source failed: %q", r.GetMessage())
	default:
		return fmt.Errorf("%w: response status %v", ErrProtocol, r.GetStatus())
	}
	if r.GetMessage() == "" {
		return base
	}
	return fmt.Errorf("%w: %q", base, r.GetMessage())
}
