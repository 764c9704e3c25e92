package tracker

import "errors"

// Sentinel errors; see the package documentation.
var (
	ErrWrongToken      = errors.New("wrong join token")
	ErrNotMember       = errors.New("not a member")
	ErrTrackerIdentity = errors.New("tracker identity does not match the token")
	ErrBadToken        = errors.New("malformed join token")
	ErrProtocol        = errors.New("protocol error")
	ErrTooLarge        = errors.New("limit exceeded")
	ErrNotConnected    = errors.New("not connected to the tracker")
	ErrFolderNotShared = errors.New("folder not shared with this device")
)
