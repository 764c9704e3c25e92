package tracker

import (
	"errors"
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/internal/wire"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// remoteError is an ERROR sent or received on the control stream. Its
// message is what the other side reads; Unwrap maps the code to a sentinel.
type remoteError struct {
	code trackerpb.ErrorCode
	msg  string
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Unwrap() error {
	switch e.code {
	case trackerpb.ErrorCode_ERROR_WRONG_TOKEN:
		return ErrWrongToken
	case trackerpb.ErrorCode_ERROR_NOT_MEMBER:
		return ErrNotMember
	case trackerpb.ErrorCode_ERROR_TOO_LARGE:
		return ErrTooLarge
	case trackerpb.ErrorCode_ERROR_PROTOCOL:
		return ErrProtocol
	case trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED:
		return ErrFolderNotShared
	}
	return nil
}

func (e *remoteError) msgPB() *trackerpb.TrackerMsg {
	return &trackerpb.TrackerMsg{Msg: &trackerpb.TrackerMsg_Error{Error: &trackerpb.Error{Code: e.code, Message: e.msg}}}
}

// asRemoteError classifies a local error about a peer's input as the ERROR
// the peer is sent.
func asRemoteError(err error) *remoteError {
	var re *remoteError
	switch {
	case errors.As(err, &re):
		return re
	case errors.Is(err, wire.ErrTooLarge), errors.Is(err, ErrTooLarge):
		return &remoteError{trackerpb.ErrorCode_ERROR_TOO_LARGE, "message too large: " + err.Error()}
	case errors.Is(err, ErrFolderNotShared):
		return &remoteError{trackerpb.ErrorCode_ERROR_FOLDER_NOT_SHARED, "folder not shared with this device: " + err.Error()}
	case errors.Is(err, ErrWrongToken):
		return &remoteError{trackerpb.ErrorCode_ERROR_WRONG_TOKEN, "wrong join token: " + err.Error()}
	case errors.Is(err, ErrProtocol), errors.Is(err, wire.ErrTruncated), errors.Is(err, wire.ErrMalformed):
		return &remoteError{trackerpb.ErrorCode_ERROR_PROTOCOL, "protocol error: " + err.Error()}
	}
	return &remoteError{trackerpb.ErrorCode_ERROR_UNAVAILABLE, "tracker unavailable: " + err.Error()}
}

func errTimeout(d time.Duration) *remoteError {
	return &remoteError{trackerpb.ErrorCode_ERROR_TIMEOUT, fmt.Sprintf("no keep-alive for %v: peer dropped", d)}
}

// fromConnClose recovers an ERROR from the application error the other side
// closed the connection with (the tracker closes with the ERROR's code and
// message, so a peer learns why even if the stream data was lost).
func fromConnClose(err error) (*remoteError, bool) {
	if ae, ok := transport.AsApplicationError(err); ok && ae.Remote && ae.Code != 0 {
		return &remoteError{trackerpb.ErrorCode(ae.Code), ae.Reason}, true
	}
	return nil, false
}
